"""darktable semantics: the operation vocabulary, operations → sidecar history, darktable-cli ground truth."""
