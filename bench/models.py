"""Benchmark: the from-scratch models of Lesson 7, accuracy and training time on this machine.

    python bench/models.py [--quick]

CNNs on the digits bundled with scikit-learn (1,797 real handwritten digits, upsampled to 28x28, 20% held back):
the lesson's plain CNN and ResNet, plain nets and ResNets of 20 and 56 layers, a small DenseNet, all with the same
one-cycle schedule. RNNs on human numbers (1-8000 train, 8001-9999 valid, generated in code): Model0...Model5 next to
the validation accuracy the lesson reports. One table each: validation accuracy, seconds, and for the CNNs the
smoothed training loss at the end (He et al.'s claim is about training loss: deeper plain nets train worse).
"""
import argparse, sys, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import torch
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lesson7ext.models import digits_dls, plain_cnn, lesson_resnet, resnet, densenet, fit_classifier, n_layers
from lesson7ext.rnn import rnn_models, rnn_recipes, fit_rnn

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='fewer epochs (a smoke run, not the reported numbers)')
    a = p.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    ep = 2 if a.quick else 8
    dls = digits_dls()
    print(f"CNNs on the bundled digits ({len(dls.train_ds)} train / {len(dls.valid_ds)} valid), {ep} epochs one-cycle, lr 1e-2")
    print(f"| {'model':14s} | layers | valid acc | train loss (end) | seconds |\n|{'-' * 16}|--------|-----------|------------------|---------|")
    for name, m in [('lesson CNN', plain_cnn()), ('lesson ResNet', lesson_resnet()), ('plain-20', resnet(3, residual=False)),
                    ('ResNet-20', resnet(3)), ('plain-56', resnet(9, residual=False)), ('ResNet-56', resnet(9)), ('DenseNet', densenet())]:
        l = fit_classifier(m, dls, epochs=ep, lr=1e-2)
        print(f"| {name:14s} | {n_layers(l.model):6d} | {l.accuracy:9.4f} | {float(l.recorder.losses[-1]):16.4f} | {l.seconds:7.1f} |", flush=True)
    lesson = dict(Model0=0.41, Model3=0.44, Model4=0.61, Model5=0.80)
    print("\nRNNs on human numbers, one-cycle with each model's recipe (rnn_recipes), hidden 64, batch 64")
    print("| model  | seq_len | epochs | lr     | valid acc | lesson | seconds |\n|--------|---------|--------|--------|-----------|--------|---------|")
    for name in rnn_models:
        ep, lr = rnn_recipes[name]
        l = fit_rnn(name, epochs=2 if a.quick else ep)
        t = lesson.get(name)
        print(f"| {name} | {l.dls.train.seq_len:7d} | {ep:6d} | {lr:6g} | {l.accuracy:9.4f} | {t if t else '-':>6} | {l.seconds:7.1f} |", flush=True)

if __name__ == '__main__': main()
