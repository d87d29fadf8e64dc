"""Source adapters: fetch raw pages and parse them into plain records. No Django here."""
