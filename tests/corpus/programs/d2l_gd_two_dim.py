# Source: d2l-ai/d2l-en chapter_optimization/gd.md (multivariate gradient descent) and
#   sgd.md (stochastic gradient descent with a constant and an exponential learning rate)
# Edits: d2l.show_trace_2d dropped (a contour plot of the trace kept as plain matplotlib);
#   train_2d copied inline from the d2l library.
import math
import torch
import matplotlib.pyplot as plt


def train_2d(trainer, steps=20, f_grad=None):  #@save
    """Optimize a 2D objective function with a customized trainer."""
    # `s1` and `s2` are internal state variables that will be used in Momentum, adagrad, RMSProp
    x1, x2, s1, s2 = -5, -2, 0, 0
    results = [(x1, x2)]
    for i in range(steps):
        if f_grad:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2, f_grad)
        else:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2)
        results.append((x1, x2))
    print(f'epoch {i + 1}, x1: {float(x1):f}, x2: {float(x2):f}')
    return results


def f_2d(x1, x2):  # Objective function
    return x1 ** 2 + 2 * x2 ** 2


def f_2d_grad(x1, x2):  # Gradient of the objective function
    return (2 * x1, 4 * x2)


def gd_2d(x1, x2, s1, s2, f_grad):
    g1, g2 = f_grad(x1, x2)
    return (x1 - eta * g1, x2 - eta * g2, 0, 0)


eta = 0.1
results = train_2d(gd_2d, f_grad=f_2d_grad)


def f_grad(x1, x2):  # Gradient of the objective function
    return 2 * x1, 4 * x2


def sgd(x1, x2, s1, s2, f_grad):
    g1, g2 = f_grad(x1, x2)
    # Simulate noisy gradient
    g1 += torch.normal(0.0, 1, (1,)).item()
    g2 += torch.normal(0.0, 1, (1,)).item()
    eta_t = eta * lr()
    return (x1 - eta_t * g1, x2 - eta_t * g2, 0, 0)


def constant_lr():
    return 1


eta = 0.1
lr = constant_lr  # Constant learning rate
results = train_2d(sgd, steps=50, f_grad=f_grad)


def exponential_lr():
    # Global variable that is defined outside this function and updated inside
    global t
    t += 1
    return math.exp(-0.1 * t)


t = 1
lr = exponential_lr
results = train_2d(sgd, steps=100, f_grad=f_grad)

x1, x2 = torch.meshgrid(torch.arange(-5.5, 1.0, 0.1), torch.arange(-3.0, 1.0, 0.1), indexing='ij')
plt.plot(*zip(*results), '-o', color='#ff7f0e')
plt.contour(x1, x2, f_2d(x1, x2), colors='#1f77b4')
plt.xlabel('x1')
plt.ylabel('x2')
