"""The real sentence encoder (int8 ONNX all-MiniLM-L6-v2): one text per run, so a vector does not depend
on its batch; handles and URLs do not move it; texts about one reason sit closer than two reasons."""

from __future__ import annotations

import numpy as np

from models.embedding import OnnxEmbedder, clean_for_topics


def test_the_real_encoder_is_batch_invariant_strips_handles_and_groups_reasons() -> None:
    embedder = OnnxEmbedder.load(threads=2)
    texts = [
        "@AcmeHelp you charged me twice and still no refund https://t.co/x1",
        "I was billed twice this month, where is my refund?",
        "the courier left my parcel in the rain, package soaked",
        "cannot log in, password reset email never arrives " * 20,  # long: truncated head and tail
    ]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([text]) for text in reversed(texts)])[::-1]
    assert together.shape == (4, 384) and embedder.dim == 384
    assert embedder.input_names == {"input_ids"}  # one unpadded text per run: no mask to feed
    np.testing.assert_array_equal(together, alone)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    bare = embedder.embed(["you charged me twice and still no refund"])[0]
    assert float(together[0] @ bare) > 0.999
    assert float(together[0] @ together[1]) > float(together[0] @ together[2]) + 0.2
    assert clean_for_topics("@acme see https://x.y/z XX/XX/2019 XXXX #refund now") == "see refund now"
