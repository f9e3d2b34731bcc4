"""Chapter 10 (trends and FAQ): diagnosing training curves, remedies, data splits, history."""

from ..registry import choice_question

SECTION = "../book/10_trends_faq.ipynb"
HISTORY = "../book/01_background.ipynb#ch1-timeline"
VANISHING = "../book/04_backprop.ipynb#ch4-vanishing"

choice_question(
    "10.1", "Reading training curves", name="answer_10_1", section=SECTION + "#faq-overfitting",
    options={"A": "Underfitting: make the model larger and train longer.",
             "B": "Overfitting: stop early (keep the epoch-8 weights), add regularization "
                  "(weight decay, dropout, augmentation) or get more data.",
             "C": "The learning rate is too high: the training loss would diverge otherwise.",
             "D": "A bug in the validation data: both losses must always fall together."},
    answer="B",
    wrong={"A": "The training loss is still falling, so the model fits the training data "
                "better and better; it is the gap to the validation loss that grows.",
           "C": "A too-high learning rate makes the TRAINING loss oscillate or diverge; here it "
                "falls smoothly.",
           "D": "A validation loss that turns upward while the training loss falls is the "
                "normal signature of overfitting, not of a bug."},
)

choice_question(
    "10.2", "Vanishing gradients in a deep sigmoid network", name="answer_10_2",
    section=VANISHING,
    options={"A": "Use ReLU-family activations with He initialization (and, for very deep "
                  "networks, residual connections or normalization layers).",
             "B": "Add more sigmoid layers so the signal has more paths.",
             "C": "Add L2 regularization to the early layers.",
             "D": "Lower the learning rate of the early layers."},
    answer="A",
    wrong={"B": "Each sigmoid layer multiplies the gradient by sigma'(z) <= 0.25: more layers "
                "make it vanish faster.",
           "C": "A weight penalty shrinks the weights further; it does not restore the "
                "gradient signal.",
           "D": "The early layers' gradients are already tiny; a smaller step makes them learn "
                "even more slowly."},
)

choice_question(
    "10.3", "What the validation set is for", name="answer_10_3", section=SECTION + "#faq-tuning",
    options={"A": "More training data: it is merged into the training set each epoch.",
             "B": "Choosing hyperparameters and the stopping epoch without touching the test set.",
             "C": "Reporting the final, unbiased accuracy of the chosen model.",
             "D": "Nothing that the test set cannot do equally well."},
    answer="B",
    wrong={"A": "Data used for training cannot tell you how well the model generalises.",
           "C": "That is the test set's job: after choosing on the validation set, its score is "
                "optimistically biased.",
           "D": "Tuning on the test set makes the reported test score optimistic; keep it for "
                "the single final measurement."},
)

choice_question(
    "10.4", "When did AlexNet win ImageNet?", name="answer_10_4", section=HISTORY,
    options={"A": "1998", "B": "2006", "C": "2012", "D": "2017"},
    answer="C",
    wrong={"A": "1998 is LeNet-5 (LeCun et al., Proc. IEEE), a convolutional network for "
                "digit recognition.",
           "B": "2006 is Hinton et al.'s deep belief networks (layer-wise pre-training).",
           "D": "2017 is the Transformer (Vaswani et al.)."},
)

choice_question(
    "10.5", "Which order of milestones is right?", name="answer_10_5", section=HISTORY,
    options={"A": "Backpropagation popularised (1986), AlexNet (2012), Transformer (2017).",
             "B": "AlexNet (2012), backpropagation popularised (2014), Transformer (2017).",
             "C": "Backpropagation popularised (1986), Transformer (2010), AlexNet (2012).",
             "D": "Transformer (1997), backpropagation popularised (2006), AlexNet (2012)."},
    answer="A",
    wrong={"B": "Rumelhart, Hinton and Williams published backpropagation in Nature in 1986, "
                "long before AlexNet.",
           "C": "The Transformer ('Attention Is All You Need', Vaswani et al.) is from 2017, "
                "after AlexNet.",
           "D": "1997 is the LSTM (Hochreiter and Schmidhuber); the Transformer came in 2017 "
                "and backpropagation was popularised in 1986."},
)

choice_question(
    "10.6", "Is a bigger network always better?", name="answer_10_6",
    section=SECTION + "#faq-overfitting",
    options={"A": "Yes: more parameters always lower the test error.",
             "B": "No: with little data a larger network fits the noise unless it is "
                  "regularized; judge by the validation error, not by the training error.",
             "C": "No: larger networks always have higher training error.",
             "D": "Yes, provided the training loss reaches zero."},
    answer="B",
    wrong={"A": "Capacity helps only while the data and regularization can support it; the "
                "validation error decides.",
           "C": "Larger networks usually fit the training set better, not worse.",
           "D": "Zero training loss says nothing about held-out data; it is often a sign of "
                "memorisation."},
)
