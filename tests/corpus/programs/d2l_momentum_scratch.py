# Source: d2l-ai/d2l-en chapter_optimization/momentum.md (PyTorch tabs: an ill-conditioned
#   problem, the momentum method, implementation from scratch)
# Edits: d2l.train_ch11 over the airfoil data replaced by a few steps on random data of the
#   same width (5 features, 1500 rows -> 100); train_2d copied inline.
import torch


def train_2d(trainer, steps=20, f_grad=None):
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


eta = 0.4
def f_2d(x1, x2):
    return 0.1 * x1 ** 2 + 2 * x2 ** 2
def gd_2d(x1, x2, s1, s2):
    return (x1 - eta * 0.2 * x1, x2 - eta * 4 * x2, 0, 0)


train_2d(gd_2d)


def momentum_2d(x1, x2, v1, v2):
    v1 = beta * v1 + 0.2 * x1
    v2 = beta * v2 + 4 * x2
    return x1 - eta * v1, x2 - eta * v2, v1, v2


eta, beta = 0.6, 0.5
train_2d(momentum_2d)


def init_momentum_states(feature_dim):
    v_w = torch.zeros((feature_dim, 1))
    v_b = torch.zeros(1)
    return (v_w, v_b)


def sgd_momentum(params, states, hyperparams):
    for p, v in zip(params, states):
        with torch.no_grad():
            v[:] = hyperparams['momentum'] * v + p.grad
            p[:] -= hyperparams['lr'] * v
        p.grad.data.zero_()


features = torch.randn(100, 5)
labels = features @ torch.tensor([[1.0], [-2.0], [0.5], [3.0], [0.0]]) + 0.1
w = torch.normal(mean=0.0, std=0.01, size=(5, 1), requires_grad=True)
b = torch.zeros((1), requires_grad=True)
states = init_momentum_states(5)
for step in range(20):
    l = ((features @ w + b - labels) ** 2 / 2).mean()
    l.backward()
    sgd_momentum([w, b], states, {'lr': 0.02, 'momentum': 0.5})
print(f'loss: {l:.3f}')
