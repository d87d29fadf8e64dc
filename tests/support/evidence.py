"""Evidence items as the classifier writes them, for tests that store tags by hand."""

CLEARVIEW = {
    "kind": "vendor",
    "field": "vendor",
    "match": "CLEARVIEW AI, INC.",
    "strength": "strong",
    "rule": None,
    "product": None,
    "why": "vendor Clearview AI is a face recognition vendor",
}
