# Source: mrdbourke/pytorch-deep-learning 02_pytorch_classification.ipynb (make_circles data,
#   CircleModelV2 with ReLU, accuracy_fn, training loop with BCEWithLogitsLoss)
# Edits: sklearn's make_circles(1000, noise=0.03) replaced by random points on two circles
#   built with torch (400 samples); train_test_split replaced by slicing; 1000 epochs
#   reduced to 20, printed every 5 (5 s deadline: 100 epochs took more than 5 s in the
#   sandbox).
import torch
from torch import nn
import math

n_samples = 400
angles = torch.rand(n_samples) * 2 * math.pi
labels = torch.randint(0, 2, (n_samples,)).float()
radius = torch.where(labels == 1, torch.tensor(0.8), torch.tensor(1.0))
X = torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], dim=1)
X = X + 0.03 * torch.randn_like(X)
y = labels

X_train, X_test = X[:320], X[320:]
y_train, y_test = y[:320], y[320:]

device = "cuda" if torch.cuda.is_available() else "cpu"


# Build model with non-linear activation function
class CircleModelV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer_1 = nn.Linear(in_features=2, out_features=10)
        self.layer_2 = nn.Linear(in_features=10, out_features=10)
        self.layer_3 = nn.Linear(in_features=10, out_features=1)
        self.relu = nn.ReLU() # <- add in ReLU activation function
        # Can also put sigmoid in the model
        # This would mean you don't need to use it on the predictions
        # self.sigmoid = nn.Sigmoid()

    def forward(self, x):
      # Intersperse the ReLU activation function between layers
       return self.layer_3(self.relu(self.layer_2(self.relu(self.layer_1(x)))))


model_3 = CircleModelV2().to(device)
print(model_3)

# Setup loss and optimizer
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model_3.parameters(), lr=0.1)


# Calculate accuracy (a classification metric)
def accuracy_fn(y_true, y_pred):
    correct = torch.eq(y_true, y_pred).sum().item() # torch.eq() calculates where two tensors are equal
    acc = (correct / len(y_pred)) * 100
    return acc


# Fit the model
torch.manual_seed(42)
epochs = 20

# Put all data on target device
X_train, y_train = X_train.to(device), y_train.to(device)
X_test, y_test = X_test.to(device), y_test.to(device)

for epoch in range(epochs):
    # 1. Forward pass
    y_logits = model_3(X_train).squeeze()
    y_pred = torch.round(torch.sigmoid(y_logits)) # logits -> prediction probabilities -> prediction labels

    # 2. Calculate loss and accuracy
    loss = loss_fn(y_logits, y_train) # BCEWithLogitsLoss calculates loss using logits
    acc = accuracy_fn(y_true=y_train,
                      y_pred=y_pred)

    # 3. Optimizer zero grad
    optimizer.zero_grad()

    # 4. Loss backward
    loss.backward()

    # 5. Optimizer step
    optimizer.step()

    ### Testing
    model_3.eval()
    with torch.inference_mode():
      # 1. Forward pass
      test_logits = model_3(X_test).squeeze()
      test_pred = torch.round(torch.sigmoid(test_logits)) # logits -> prediction probabilities -> prediction labels
      # 2. Calcuate loss and accuracy
      test_loss = loss_fn(test_logits, y_test)
      test_acc = accuracy_fn(y_true=y_test,
                             y_pred=test_pred)

    # Print out what's happening
    if epoch % 5 == 0:
        print(f"Epoch: {epoch} | Loss: {loss:.5f}, Accuracy: {acc:.2f}% | Test Loss: {test_loss:.5f}, Test Accuracy: {test_acc:.2f}%")
