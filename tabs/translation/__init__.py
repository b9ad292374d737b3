"""The translation tab: page and handlers (`ui`; the logic is the shared seq2seq adapter), strings, test models."""
