"""Citizens: sign-in, their own record, consent, the access log and data rights."""
