# Source: mrdbourke/pytorch-deep-learning 00_pytorch_fundamentals.ipynb (Introduction to
#   tensors: scalar, vector, MATRIX, TENSOR, random tensors, zeros and ones, ranges)
# Edits: cells joined; bare notebook expressions turned into print() calls.
import torch
print(torch.__version__)

# Scalar
scalar = torch.tensor(7)
print(scalar)
print(scalar.ndim)
print(scalar.item())

# Vector
vector = torch.tensor([7, 7])
print(vector, vector.ndim, vector.shape)

# Matrix
MATRIX = torch.tensor([[7, 8],
                       [9, 10]])
print(MATRIX, MATRIX.ndim, MATRIX.shape)

# Tensor
TENSOR = torch.tensor([[[1, 2, 3],
                        [3, 6, 9],
                        [2, 4, 5]]])
print(TENSOR, TENSOR.ndim, TENSOR.shape)

# Create a random tensor of size (3, 4)
random_tensor = torch.rand(size=(3, 4))
print(random_tensor, random_tensor.dtype)

# Create a random tensor of size (224, 224, 3)
random_image_size_tensor = torch.rand(size=(224, 224, 3))
print(random_image_size_tensor.shape, random_image_size_tensor.ndim)

# Create a tensor of all zeros
zeros = torch.zeros(size=(3, 4))
print(zeros, zeros.dtype)

# Create a tensor of all ones
ones = torch.ones(size=(3, 4))
print(ones, ones.dtype)

# Create a range of values 0 to 10
zero_to_ten = torch.arange(start=0, end=10, step=1)
print(zero_to_ten)

# Can also create a tensor of zeros similar to another tensor
ten_zeros = torch.zeros_like(input=zero_to_ten) # will have same shape
print(ten_zeros)
