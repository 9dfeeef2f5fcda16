# Source: pytorch/tutorials recipes_source/recipes/changing_default_device.py
# Edits: "cuda" replaced by "cpu" where the recipe assumes a GPU (the check must be
#   reproducible on any host); `assert` lines kept.
import torch

mod = torch.nn.Linear(20, 30)
print(mod.weight.device)
print(mod(torch.randn(128, 20)).device)

with torch.device('cpu'):
    mod = torch.nn.Linear(20, 30)
    print(mod.weight.device)
    print(mod(torch.randn(128, 20)).device)

torch.set_default_device('cpu')
mod = torch.nn.Linear(20, 30)
print(mod.weight.device)
print(mod(torch.randn(128, 20)).device)
