# Source: pytorch/tutorials beginner_source/basics/data_tutorial.py
#   (Creating a Custom Dataset for your files; Iterate through the DataLoader)
# Edits: the CSV of labels and the image files replaced by in-memory random images (8 of
#   shape (1, 28, 28)) and labels, which the constructor takes instead of the file names;
#   read_image/pandas dropped; the imshow plot dropped.
import torch
from torch.utils.data import Dataset, DataLoader


class CustomImageDataset(Dataset):
    def __init__(self, images, labels, transform=None, target_transform=None):
        self.img_labels = labels
        self.images = images
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        image = self.images[idx]
        label = self.img_labels[idx]
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


training_data = CustomImageDataset(torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,)))
train_dataloader = DataLoader(training_data, batch_size=4, shuffle=True)

train_features, train_labels = next(iter(train_dataloader))
print(f"Feature batch shape: {train_features.size()}")
print(f"Labels batch shape: {train_labels.size()}")
img = train_features[0].squeeze()
label = train_labels[0]
print(f"Label: {label}")
