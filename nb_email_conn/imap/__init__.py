"""IMAP: sessions over imapclient, the search query language and the bulk fetch path."""
