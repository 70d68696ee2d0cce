"""Training programmes: the certificate rule and its conference sessions."""
