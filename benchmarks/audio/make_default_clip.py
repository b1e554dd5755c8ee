"""Builds the audio default bundled with the package: `aip_keras/data/audio/speech_prompts.wav`.

    apt-get install -y asterisk-core-sounds-en-wav      # Debian/Ubuntu: the prompts, their transcript, the licence
    python benchmarks/audio/make_default_clip.py        # -> aip_keras/data/audio/speech_prompts.wav (60 s)
                                                        #    + aip_keras/data/audio/LICENSE-CC-BY-SA-3.0.txt

What it does, reproducibly (no randomness beyond the fixed `--seed`):

1. Reads the transcript of Asterisk's English prompts (`core-sounds-en.txt.gz` of the Debian package
   asterisk-core-sounds-en) and keeps the prompts that are speech and say no digit: it drops the folders
   `digits/` (the isolated numbers: "zero" ... "nine" are the test words of the default teacher, an FSDD
   digit classifier), `silence/`, `letters/` (single letters: "o" is also read "oh") and `phonetic/` (NATO
   words, "niner" among them), the non-speech prompts (beeps, tones: transcripts in brackets), and every
   prompt whose transcript holds a digit character or a number word (zero/oh/one ... nine, someone/anyone,
   the teens, the tens, the ordinals fourth ... ninth) or whose name holds a digit ("dir-multi1"), and
   the short prompts (at most 3 words) with a digit's homophone ("For.", "To extension.", "saved to").
   293 of the 568 prompts are left (about 12.5 min). Homophones such as "to" and "for" inside longer
   sentences stay: they are everyday English, and benchmarks/audio/run.py's speech clip has them too.
2. Shuffles those prompt names (sorted first) with `numpy.random.default_rng(--seed)` and takes them in
   that order, skipping any that would overrun `--seconds`, until the clip is within 0.5 s of it.
3. Joins their 16-bit samples unchanged (no gaps, no trimming, no level change, no resampling) into one
   mono 16-bit PCM WAV at 8 kHz, the prompts' own rate (`aip distill` resamples it to the teacher's
   16 kHz when it loads it; `tf.audio.decode_wav` reads it, no extra dependency).
4. Copies the CC-BY-SA 3.0 licence text shipped in the package's Debian copyright file next to it.

It prints the chosen prompts (name, seconds, transcript) as a Markdown table for the README beside the clip.
"""

import argparse
import gzip
import hashlib
import pathlib
import re
import sys

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

PROMPTS = pathlib.Path("/usr/share/asterisk/sounds/en")
TRANSCRIPT = pathlib.Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
COPYRIGHT = pathlib.Path("/usr/share/doc/asterisk-core-sounds-en-wav/copyright")
OUT = REPO / "aip_keras" / "data" / "audio"
SAMPLE_RATE = 8000
LEFT_OUT = ("digits", "silence", "letters", "phonetic")
_DIGITS = "zero|oh|one|two|three|four|five|six|seven|eight|nine"
NUMBER = re.compile(
    rf"\d|\b(?:{_DIGITS}|niner|(?:some|any|every|no)one|(?:thir|four|fif|six|seven|eigh|nine)teen"
    r"|(?:twen|thir|for|fif|six|seven|eigh|nine)ty|(?:four|fif|six|seven|eigh|nin)th)\b",
    re.IGNORECASE,
)
# Words that sound like a digit; a prompt of at most SHORT words with one of them is all but a test word.
HOMOPHONES = {"to", "too", "for", "fore", "won", "ate", "oh"}
SHORT = 3


def transcript():
    """{prompt name (e.g. "vm-goodbye", "dictate/pause"): its text} from the package's transcript."""
    if not TRANSCRIPT.exists():
        raise SystemExit(f"{TRANSCRIPT} is missing: apt-get install -y asterisk-core-sounds-en-wav")
    texts = {}
    with gzip.open(TRANSCRIPT, "rt", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.startswith(";") or ":" not in line:
                continue
            name, text = line.split(":", 1)
            texts[name.strip()] = text.strip()
    return texts


def eligible(texts):
    """Sorted names of the prompts that are speech and say no number (see the module docstring)."""
    names = []
    for path in PROMPTS.rglob("*.wav"):
        name = path.relative_to(PROMPTS).with_suffix("").as_posix()
        text = texts.get(name)
        if "/" in name and name.split("/")[0] in LEFT_OUT:
            continue
        if text is None or text.startswith(("[", "<")) or NUMBER.search(text) or NUMBER.search(name):
            continue
        words = re.findall(r"[a-z']+", text.lower())
        if len(words) <= SHORT and HOMOPHONES & set(words):
            continue
        names.append(name)
    if not names:
        raise SystemExit(f"no prompts under {PROMPTS}: apt-get install -y asterisk-core-sounds-en-wav")
    return sorted(names)


def choose(names, seconds, seed):
    """Prompts in a seeded random order, skipping those that would overrun `seconds`; (name, seconds) pairs."""
    import soundfile

    chosen, total = [], 0.0
    for i in np.random.default_rng(seed).permutation(len(names)):
        info = soundfile.info(PROMPTS / f"{names[i]}.wav")
        if info.samplerate != SAMPLE_RATE or info.channels != 1 or info.subtype != "PCM_16":
            raise SystemExit(f"{names[i]}.wav is {info.samplerate} Hz {info.channels}-channel {info.subtype}: "
                             f"expected the package's {SAMPLE_RATE} Hz mono PCM_16")
        if total + info.duration <= seconds:
            chosen.append((names[i], info.duration))
            total += info.duration
        if total > seconds - 0.5:
            break
    return chosen


def licence_text():
    """The CC-BY-SA-3.0 stanza of the Debian copyright file, unfolded (the licence as Asterisk ships it)."""
    lines = COPYRIGHT.read_text(encoding="utf-8").splitlines()
    start = lines.index("License: CC-BY-SA-3.0", lines.index("Files: debian/*")) + 1
    body = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        body.append("" if line.strip() == "." else line[1:])
    return "\n".join(body).rstrip() + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the clip (at most)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the prompt order")
    parser.add_argument("--out", default=str(OUT / "speech_prompts.wav"), help="the WAV to write")
    args = parser.parse_args()

    import soundfile

    from aip_keras import atomic

    texts = transcript()
    names = eligible(texts)
    chosen = choose(names, args.seconds, args.seed)
    samples = np.concatenate([soundfile.read(PROMPTS / f"{name}.wav", dtype="int16")[0] for name, _ in chosen])
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_path(out) as tmp:  # the int16 samples as they are: a bit-exact join
        soundfile.write(tmp, samples, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    licence = pathlib.Path(out).parent / "LICENSE-CC-BY-SA-3.0.txt"
    header = ("The licence of speech_prompts.wav (see README.md): the CC-BY-SA-3.0 text shipped by Asterisk\n"
              f"with its core sound prompts, copied from {COPYRIGHT} (Debian 12).\n"
              "Canonical text: https://creativecommons.org/licenses/by-sa/3.0/legalcode\n\n")
    licence.write_text(header + licence_text(), encoding="utf-8")

    total = sum(s for _, s in chosen)
    data = pathlib.Path(out).read_bytes()
    print(f"{len(names)} eligible prompts ({sum(1 for _ in PROMPTS.rglob('*.wav'))} in all); chose {len(chosen)}, "
          f"{total:.2f} s -> {out} ({len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()})")
    print(f"licence -> {licence}\n")
    print("| # | prompt | seconds | transcript |\n| --- | --- | --- | --- |")
    for i, (name, s) in enumerate(chosen, 1):
        print(f"| {i} | `{name}` | {s:.2f} | {texts[name]} |")


if __name__ == "__main__":
    main()
