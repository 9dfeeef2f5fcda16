# Source: d2l-ai/d2l-en chapter_preliminaries/probability.md (PyTorch tabs: tossing coins
#   with torch.distributions.multinomial.Multinomial, the running-estimate plot)
# Edits: d2l.plt / d2l.set_figsize replaced by matplotlib.pyplot; 10,000 tosses -> 1,000.
import random
import torch
from torch.distributions.multinomial import Multinomial
import matplotlib.pyplot as plt

num_tosses = 100
heads = sum([random.random() > 0.5 for _ in range(num_tosses)])
tails = num_tosses - heads
print("heads, tails: ", [heads, tails])

fair_probs = torch.tensor([0.5, 0.5])
print(Multinomial(100, fair_probs).sample())

print(Multinomial(100, fair_probs).sample() / 100)

counts = Multinomial(1000, fair_probs).sample()
print(counts / 1000)

counts = Multinomial(1, fair_probs).sample((1000,))
cum_counts = counts.cumsum(dim=0)
estimates = cum_counts / cum_counts.sum(dim=1, keepdims=True)
estimates = estimates.numpy()

plt.figure(figsize=(4.5, 3.5))
plt.plot(estimates[:, 0], label=("P(coin=heads)"))
plt.plot(estimates[:, 1], label=("P(coin=tails)"))
plt.axhline(y=0.5, color='black', linestyle='dashed')
plt.gca().set_xlabel('Samples')
plt.gca().set_ylabel('Estimated probability')
plt.legend();
