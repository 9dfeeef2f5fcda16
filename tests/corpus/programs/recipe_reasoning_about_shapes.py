# Source: pytorch/tutorials recipes_source/recipes/reasoning_about_shapes.py
#   (the meta-device part: shapes of conv layers without computing)
# Edits: none.
import torch

a = torch.rand(2, 3, 10, 10, device="meta")
conv = torch.nn.Conv2d(3, 5, 2, device="meta")
print(f"{conv(a).shape=}")

t = torch.rand(2, 3, 10, 10, device="meta")
print(f"{t.shape=}")
