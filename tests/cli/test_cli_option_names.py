"""One spelling per concept on the command line, short flags for the common options, and
the old spellings still accepted."""

import pytest

from tfflow.cli.main import build_parser


def test_sample_count_has_one_spelling_and_keeps_the_old_one(capsys):
    parser = build_parser()
    for flags in (["-n", "5"], ["--num-samples", "5"], ["--num", "5"]):
        assert parser.parse_args(["sample", "RUN", *flags]).num == 5
    with pytest.raises(SystemExit):
        parser.parse_args(["sample", "--help"])
    help_text = capsys.readouterr().out
    assert "--num-samples" in help_text and "--num " not in help_text


def test_train_and_sample_share_short_flags():
    parser = build_parser()
    train = parser.parse_args(["train", "-o", "runs/x", "-n", "16", "-v", "2"])
    assert (train.run_dir, train.num_samples, train.verbose) == ("runs/x", 16, 2)
    sample = parser.parse_args(["sample", "RUN", "-o", "grid.png"])
    assert sample.out == "grid.png"
