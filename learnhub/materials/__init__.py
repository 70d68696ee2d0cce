"""Course materials: where courses and question banks come from (files on the server today)."""
