# Source: d2l-ai/d2l-en chapter_optimization/adam.md and rmsprop.md (PyTorch tabs:
#   implementation from scratch)
# Edits: d2l.train_ch11 over the airfoil data replaced by 20 steps of linear regression on
#   random data of the same width (5 features).
import math
import torch


def init_adam_states(feature_dim):
    v_w, v_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    s_w, s_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    return ((v_w, s_w), (v_b, s_b))


def adam(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = beta2 * s + (1 - beta2) * torch.square(p.grad)
            v_bias_corr = v / (1 - beta1 ** hyperparams['t'])
            s_bias_corr = s / (1 - beta2 ** hyperparams['t'])
            p[:] -= hyperparams['lr'] * v_bias_corr / (torch.sqrt(s_bias_corr)
                                                       + eps)
        p.grad.data.zero_()
    hyperparams['t'] += 1


def init_rmsprop_states(feature_dim):
    s_w = torch.zeros((feature_dim, 1))
    s_b = torch.zeros(1)
    return (s_w, s_b)


def rmsprop(params, states, hyperparams):
    gamma, eps = hyperparams['gamma'], 1e-6
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] = gamma * s + (1 - gamma) * torch.square(p.grad)
            p[:] -= hyperparams['lr'] * p.grad / torch.sqrt(s + eps)
        p.grad.data.zero_()


features = torch.randn(100, 5)
labels = features @ torch.tensor([[1.0], [-2.0], [0.5], [3.0], [0.0]]) + 0.1
for name, trainer, states, hyper in [
        ('adam', adam, init_adam_states(5), {'lr': 0.01, 't': 1}),
        ('rmsprop', rmsprop, init_rmsprop_states(5), {'lr': 0.01, 'gamma': 0.9})]:
    w = torch.normal(mean=0.0, std=0.01, size=(5, 1), requires_grad=True)
    b = torch.zeros((1), requires_grad=True)
    for step in range(20):
        l = ((features @ w + b - labels) ** 2 / 2).mean()
        l.backward()
        trainer([w, b], states, hyper)
    print(f'{name} loss: {l:.3f}')

gamma = 0.9
gammas = [gamma ** x for x in torch.arange(40).detach().numpy()]
print(round(sum(gammas), 4), round(1 / (1 - gamma), 4), math.isclose(gammas[1], 0.9))
