# Source: pytorch/examples imagenet/main.py (AverageMeter, ProgressMeter, accuracy)
# Edits: the training loop reduced to 3 batches of random logits (8 x 10) and random targets;
#   time.time() kept for the batch timer (its printed value is not compared: it is not
#   printed, only the losses and accuracies are): batch_time is left out of the
#   ProgressMeter, which prints it in the original.
# Not compared: end (a wall-clock time)
import time
from enum import Enum
import torch


class Summary(Enum):
    NONE = 0
    AVERAGE = 1
    SUM = 2
    COUNT = 3


class AverageMeter(object):
    """Computes and stores the average and current value"""
    def __init__(self, name, fmt=':f', summary_type=Summary.AVERAGE):
        self.name = name
        self.fmt = fmt
        self.summary_type = summary_type
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count

    def __str__(self):
        fmtstr = '{name} {val' + self.fmt + '} ({avg' + self.fmt + '})'
        return fmtstr.format(**self.__dict__)


class ProgressMeter(object):
    def __init__(self, num_batches, meters, prefix=""):
        self.batch_fmtstr = self._get_batch_fmtstr(num_batches)
        self.meters = meters
        self.prefix = prefix

    def display(self, batch):
        entries = [self.prefix + self.batch_fmtstr.format(batch)]
        entries += [str(meter) for meter in self.meters]
        print('\t'.join(entries))

    def _get_batch_fmtstr(self, num_batches):
        num_digits = len(str(num_batches // 1))
        fmt = '{:' + str(num_digits) + 'd}'
        return '[' + fmt + '/' + fmt.format(num_batches) + ']'


def accuracy(output, target, topk=(1,)):
    """Computes the accuracy over the k top predictions for the specified values of k"""
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)

        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))

        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


batch_time = AverageMeter('Time', ':6.3f')
losses = AverageMeter('Loss', ':.4e')
top1 = AverageMeter('Acc@1', ':6.2f')
top5 = AverageMeter('Acc@5', ':6.2f')
progress = ProgressMeter(3, [losses, top1, top5], prefix="Epoch: [{}]".format(0))
criterion = torch.nn.CrossEntropyLoss()

end = time.time()
for i in range(3):
    output = torch.randn(8, 10)
    target = torch.randint(0, 10, (8,))
    loss = criterion(output, target)
    acc1, acc5 = accuracy(output, target, topk=(1, 5))
    losses.update(loss.item(), output.size(0))
    top1.update(acc1[0], output.size(0))
    top5.update(acc5[0], output.size(0))
    batch_time.update(time.time() - end)
    end = time.time()
    progress.display(i + 1)
