"""nb-email-conn: connect your own mailbox (IMAP + SMTP) inside Jupyter."""
