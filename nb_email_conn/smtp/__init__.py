"""SMTP submission over aiosmtplib."""
