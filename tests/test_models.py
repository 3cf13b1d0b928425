"From-scratch models that must actually learn: a CNN on the bundled digits and an RNN on human numbers."
import torch
from lesson7ext.models import digits_dls, lesson_resnet, plain_cnn, resnet, densenet, SimpleUnet, fit_classifier
from lesson7ext.rnn import fit_rnn, rnn_models, human_numbers_dls

def test_resnet_learns_digits():
    l = fit_classifier(lesson_resnet(), digits_dls(), epochs=8, lr=1e-2)
    assert l.accuracy >= 0.98, l.accuracy   # the lesson's MNIST ResNet: 0.9952; digits are as easy

def test_untrained_model_is_at_chance():
    "The accuracy above is learned, not an artefact of the metric: an untrained net scores about 1 in 10."
    dls = digits_dls()
    m = lesson_resnet().eval()
    xb, yb = dls.valid.one_batch()
    with torch.no_grad(): acc = (m(xb).argmax(1) == yb).float().mean().item()
    assert acc < 0.4

def test_gru_learns_human_numbers():
    l = fit_rnn('Model5')
    assert l.accuracy >= 0.80, l.accuracy    # the lesson's Model5: 0.80

def test_every_model_shapes():
    x = torch.randn(3, 1, 28, 28)
    for m in (plain_cnn(), lesson_resnet(), resnet(3), resnet(3, residual=False), densenet()): assert m(x).shape == (3, 10)
    assert SimpleUnet(nf=4)(torch.randn(1, 3, 45, 31)).shape == (1, 3, 45, 31)
    dls = human_numbers_dls(bs=4, seq_len=5)
    xb, _ = dls.one_batch()
    for name, M in rnn_models.items():
        out = M(len(dls.vocab), 8)(xb)
        assert out.shape == ((4, len(dls.vocab)) if name in ('Model0', 'Model1') else (4, 5, len(dls.vocab))), name
