# Source: d2l-ai/d2l-en chapter_optimization/gd.md (PyTorch tabs: one-dimensional gradient
#   descent, learning rate)
# Edits: d2l.plot / show_trace replaced by a plain matplotlib plot of the trace;
#   `from d2l import torch as d2l` dropped; the curve sampled every 0.1 instead of 0.01 (its
#   [f(x) for x in f_line] is 2,000 tensor calls per plot: 5 s deadline).
import numpy as np
import torch
import matplotlib.pyplot as plt


def f(x):  # Objective function
    return x ** 2


def f_grad(x):  # Gradient (derivative) of the objective function
    return 2 * x


def gd(eta, f_grad):
    x = 10.0
    results = [x]
    for i in range(10):
        x -= eta * f_grad(x)
        results.append(float(x))
    print(f'epoch 10, x: {x:f}')
    return results


results = gd(0.2, f_grad)


def show_trace(results, f):
    n = max(abs(min(results)), abs(max(results)))
    f_line = torch.arange(-n, n, 0.1)
    plt.figure(figsize=(3.5, 2.5))
    plt.plot(f_line, [f(x) for x in f_line], '-')
    plt.plot(results, [f(x) for x in results], '-o')
    plt.xlabel('x')
    plt.ylabel('f(x)')


show_trace(results, f)
show_trace(gd(0.05, f_grad), f)
show_trace(gd(1.1, f_grad), f)

c = torch.tensor(0.15 * np.pi)


def f(x):  # Objective function
    return x * torch.cos(c * x)


def f_grad(x):  # Gradient of the objective function
    return torch.cos(c * x) - c * x * torch.sin(c * x)


show_trace(gd(2, f_grad), f)
