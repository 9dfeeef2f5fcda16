"""The corpus programs are data for test_corpus.py, never test modules of their own (one of
them defines `test(model, device, test_loader)`, as pytorch/examples' mnist does)."""

collect_ignore_glob = ["programs/*"]
