"""A torch/ONNX re-implementation of the vocabulary's darktable modules and of darktable's non-raw pipe."""
