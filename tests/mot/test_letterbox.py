import numpy as np
import pytest

from harness.mot.letterbox import letterbox


@pytest.mark.parametrize("shape", [(192, 320), (720, 1280), (300, 200), (640, 640)])
def test_letterbox_matches_ultralytics(shape):
    from ultralytics.data.augment import LetterBox

    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (*shape, 3), dtype=np.uint8)
    ours, lb = letterbox(img, 320)
    ref = LetterBox(new_shape=(320, 320), auto=False, stride=32)(image=img)
    assert ours.shape == (320, 320, 3)
    assert np.array_equal(ours, ref)
    assert lb.width == shape[1] and lb.height == shape[0]
