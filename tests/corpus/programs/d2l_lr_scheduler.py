# Source: d2l-ai/d2l-en chapter_optimization/lr-scheduler.md (PyTorch tabs: schedulers)
# Edits: the d2l.plot calls replaced by plain matplotlib plots of the same values; the
#   Fashion-MNIST training runs dropped.
import math
import torch
from torch import nn
from torch.optim import lr_scheduler
import matplotlib.pyplot as plt


class SquareRootScheduler:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr * pow(num_update + 1.0, -0.5)


scheduler = SquareRootScheduler(lr=0.1)
plt.plot(torch.arange(30), [scheduler(t) for t in range(30)])


class FactorScheduler:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.base_lr = base_lr

    def __call__(self, num_update):
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return self.base_lr


scheduler = FactorScheduler(factor=0.9, stop_factor_lr=1e-2, base_lr=2.0)
factors = [scheduler(t) for t in range(50)]
plt.plot(torch.arange(50), factors)

net = nn.Sequential(nn.Linear(4, 2))
trainer = torch.optim.SGD(net.parameters(), lr=0.5)
scheduler = lr_scheduler.MultiStepLR(trainer, milestones=[15, 30], gamma=0.5)


def get_lr(trainer, scheduler):
    lr = scheduler.get_last_lr()[0]
    trainer.step()
    scheduler.step()
    return lr


multistep = [get_lr(trainer, scheduler) for t in range(40)]
plt.plot(torch.arange(40), multistep)


class CosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0,
               warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch):
        increase = (self.base_lr_orig - self.warmup_begin_lr) \
                       * float(epoch) / float(self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = self.final_lr + (
                self.base_lr_orig - self.final_lr) * (1 + math.cos(
                math.pi * (epoch - self.warmup_steps) / self.max_steps)) / 2
        return self.base_lr


scheduler = CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01)
cosine = [scheduler(t) for t in range(30)]
plt.plot(torch.arange(30), cosine)
print(factors[:3], multistep[14:17], cosine[:3])
