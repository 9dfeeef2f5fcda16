# Source: d2l-ai/d2l-en chapter_builders-guide/read-write.md (PyTorch tabs)
# Edits: torch.save / torch.load to files replaced by keeping the objects in memory (no file
#   system in the sandbox); clone.load_state_dict of the saved state_dict kept.
import torch
from torch import nn
from torch.nn import functional as F

x = torch.arange(4)
saved = {'x-file': x}
x2 = saved['x-file']
print(x2)

y = torch.zeros(4)
saved['x-files'] = [x, y]
x2, y2 = saved['x-files']
print((x2, y2))

mydict = {'x': x, 'y': y}
saved['mydict'] = mydict
mydict2 = saved['mydict']
print(mydict2)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.LazyLinear(256)
        self.output = nn.LazyLinear(10)

    def forward(self, x):
        return self.output(F.relu(self.hidden(x)))


net = MLP()
X = torch.randn(size=(2, 20))
Y = net(X)

params = net.state_dict()

clone = MLP()
clone(X)
clone.load_state_dict(params)
clone.eval()

Y_clone = clone(X)
Y_clone == Y
