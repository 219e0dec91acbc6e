"""Both families with tiny models: batching, loss masks, generation."""

from __future__ import annotations

import torch

from instructkit.models import Lengths, adapter_for, load_model
from instructkit.models.adapters import IGNORE_INDEX


def test_decoder_only_masks_the_source() -> None:
    ad = adapter_for(load_model("tiny"))
    assert ad.family == "decoder-only"
    batch = ad.collate(["abc", "hello world"], ["xy", "z"], Lengths(64, 8))
    ids, labels, mask = batch["input_ids"], batch["labels"], batch["attention_mask"]
    # Row 0: 3 source bytes, then "xy" + eos are the only labelled positions.
    assert labels[0, :3].tolist() == [IGNORE_INDEX] * 3
    assert labels[0, 3:6].tolist() == ids[0, 3:6].tolist()
    assert labels[0, 5].item() == ad.eos_id
    assert (labels[0, 6:] == IGNORE_INDEX).all() and mask[0].sum() == 6
    assert (labels != IGNORE_INDEX).sum() == 3 + 2
    loss = ad.model(**batch).loss
    assert torch.isfinite(loss)


def test_decoder_only_truncates_source_from_the_left() -> None:
    ad = adapter_for(load_model("tiny"))
    batch = ad.collate(["0123456789"], ["a"], Lengths(4, 8))
    assert ad.tokenizer.decode(batch["input_ids"][0, :4]) == "6789"


def test_encoder_decoder_batches_and_generates() -> None:
    ad = adapter_for(load_model("tiny-t5"))
    assert ad.family == "encoder-decoder"
    batch = ad.collate(["abc", "de"], ["xyz", "q"], Lengths(64, 8))
    assert batch["labels"].shape == (2, 4)
    assert batch["labels"][1, 2:].tolist() == [IGNORE_INDEX, IGNORE_INDEX]
    assert torch.isfinite(ad.model(**batch).loss)
    outs = ad.generate(["abc", "a longer source"], max_new_tokens=4, batch_size=1)
    assert len(outs) == 2 and all(isinstance(o, str) for o in outs)


def test_batched_generation_matches_one_by_one() -> None:
    ad = adapter_for(load_model("tiny", seed=1))
    srcs = ["short", "a much longer source text", "mid length"]
    assert ad.generate(srcs, max_new_tokens=5, batch_size=3) == [
        ad.generate([s], max_new_tokens=5, batch_size=1)[0] for s in srcs
    ]


def test_local_folder_loads_through_from_pretrained(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for kind, family in (("tiny", "decoder-only"), ("tiny-t5", "encoder-decoder")):
        src = load_model(kind)
        src.model.save_pretrained(tmp_path / kind)
        src.tokenizer.save_pretrained(tmp_path / kind)
        again = load_model(str(tmp_path / kind))
        assert again.family == family
        for a, b in zip(
            src.model.state_dict().values(), again.model.state_dict().values(), strict=True
        ):
            assert torch.equal(a, b)


def test_missing_model_is_one_line_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from instructkit.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="cannot load model") as info:
        load_model(str(tmp_path / "no-such-model"))
    assert "\n" not in str(info.value)


def test_source_truncation_side_is_configurable() -> None:
    ad = adapter_for(load_model("tiny"))
    right = ad.collate(["0123456789"], ["a"], Lengths(4, 8, truncate_source="right"))
    assert ad.tokenizer.decode(right["input_ids"][0, :4]) == "0123"
    for kind in ("tiny", "tiny-t5"):
        enc = adapter_for(load_model(kind)).collate(["0123456789"], ["a"], Lengths(3, 8, "left"))
        assert enc["input_ids"].shape[1] >= 3


def test_stop_strings_apply_after_leading_whitespace() -> None:
    """An answer that starts on a new line is generated, not stopped at that line: the
    stopping rule matches how predictions are cut (evaluation.run.cut_at_stop)."""
    import torch

    from instructkit.evaluation.run import cut_at_stop
    from instructkit.models.adapters import StopOnStrings

    ad = adapter_for(load_model("tiny", seed=0))
    tok = ad.tokenizer
    rule = StopOnStrings(tok, ["\n"], start=0)

    def stops(text: str) -> bool:
        ids = torch.tensor([tok(text, add_special_tokens=False)["input_ids"]])
        return bool(rule(ids, torch.zeros(1))[0])

    assert not stops("\n")
    assert not stops("\n  The answer")
    assert stops("\nThe answer\n")
    assert stops("yes\n")
    assert cut_at_stop("\nThe answer\nmore", ["\n"]) == "The answer"
