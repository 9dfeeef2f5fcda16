# Source: pytorch/tutorials recipes_source/recipes/tuning_guide.py and the
#   torch.optim documentation's "How to adjust learning rate" examples (pytorch/pytorch
#   docs/source/optim.md): ExponentialLR chained with MultiStepLR, ReduceLROnPlateau
# Edits: the `train(...)` / `validate(...)` calls replaced by one SGD step on a tiny random
#   regression; 20 epochs -> 6.
import torch
from torch.optim.lr_scheduler import ExponentialLR, MultiStepLR, ReduceLROnPlateau

model = [torch.nn.Parameter(torch.randn(2, 2, requires_grad=True))]
optimizer = torch.optim.SGD(model, 0.1)
scheduler1 = ExponentialLR(optimizer, gamma=0.9)
scheduler2 = MultiStepLR(optimizer, milestones=[3, 5], gamma=0.1)

input = torch.randn(4, 2)
target = torch.randn(4, 2)
for epoch in range(6):
    optimizer.zero_grad()
    output = input @ model[0]
    loss = torch.nn.functional.mse_loss(output, target)
    loss.backward()
    optimizer.step()
    scheduler1.step()
    scheduler2.step()
    print(epoch, round(loss.item(), 6), scheduler2.get_last_lr())

optimizer = torch.optim.SGD(model, lr=0.1, momentum=0.9)
scheduler = ReduceLROnPlateau(optimizer, 'min', patience=1)
for epoch in range(6):
    val_loss = 1.0  # a validation loss that never improves
    scheduler.step(val_loss)
    print(epoch, optimizer.param_groups[0]['lr'])
