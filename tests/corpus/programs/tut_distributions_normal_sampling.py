# Source: pytorch/examples reinforcement_learning/actor_critic.py (SavedAction namedtuple,
#   Policy with two heads, select_action with Categorical) and the torch.distributions
#   documentation's score-function example (pytorch/pytorch docs/source/distributions.rst)
# Edits: the gym environment replaced by 5 random 4-dim states; a Normal policy from the
#   distributions docs' REINFORCE snippet added (reward = -action^2).
from collections import namedtuple
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, Normal

SavedAction = namedtuple('SavedAction', ['log_prob', 'value'])


class Policy(nn.Module):
    """
    implements both actor and critic in one model
    """
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(4, 128)

        # actor's layer
        self.action_head = nn.Linear(128, 2)

        # critic's layer
        self.value_head = nn.Linear(128, 1)

        # action & reward buffer
        self.saved_actions = []
        self.rewards = []

    def forward(self, x):
        """
        forward of both actor and critic
        """
        x = F.relu(self.affine1(x))

        # actor: choses action to take from state s_t
        # by returning probability of each action
        action_prob = F.softmax(self.action_head(x), dim=-1)

        # critic: evaluates being in the state s_t
        state_values = self.value_head(x)

        # return values for both actor and critic as a tuple of 2 values:
        # 1. a list with the probability of each action over the action space
        # 2. the value from state s_t
        return action_prob, state_values


model = Policy()


def select_action(state):
    state = torch.from_numpy(state).float()
    probs, state_value = model(state)

    # create a categorical distribution over the list of probabilities of actions
    m = Categorical(probs)

    # and sample an action using the distribution
    action = m.sample()

    # save to action buffer
    model.saved_actions.append(SavedAction(m.log_prob(action), state_value))

    # the action to take (left or right)
    return action.item()


states = torch.randn(5, 4).numpy()
print([select_action(s) for s in states])
print(model.saved_actions[0].log_prob, model.saved_actions[0].value)

# distributions.rst, "Score function"
mean = torch.zeros(3, requires_grad=True)
m = Normal(mean, torch.ones(3))
action = m.sample()
reward = -(action ** 2)
loss = -m.log_prob(action) * reward
loss.sum().backward()
print(mean.grad)
print(m.entropy(), m.mean, m.stddev)
