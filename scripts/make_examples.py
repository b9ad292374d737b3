"""Write the example files the speech and document tabs ship (assets/examples/speech, assets/examples/documents).

Usage: python scripts/make_examples.py [OUT_DIR]   (default: assets/examples)

- speech/welcome.ogg: "Welcome to the Hugging Face course" spoken by espeak-ng, 16 kHz mono Ogg Vorbis.
- audio/beep_silence_noise.ogg: 10 s of a 1 kHz beep, 10 s of silence, 10 s of white noise (three
  AudioSet classes in turn, for the audio classification timeline), 16 kHz mono Ogg Vorbis.
- documents/invoice.pdf: a two-page invoice with a text layer (reportlab): the items and total on
  page 1, the payment terms and due date on page 2.
- documents/invoice.png: page 1 of that PDF rendered to a greyscale picture (pypdfium2), for OCR.
- video/bouncing_ball.mp4: a red ball bouncing across a floor, 3 s at 25 fps, 224×224 H.264 (Pillow
  frames encoded by ffmpeg).
- pairs/house_turned.png: house.png turned 12 degrees and zoomed in, the second view of a scene that
  keypoint matching pairs with house.png.

All of it is this project's own work, released under CC0 (assets/examples/LICENSE.md). The PDF is
written with reportlab's invariant mode, so running the script again gives the same bytes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEECH = "Welcome to the Hugging Face course"
SPEECH_RATE = 16000
# Page 1 renders at this scale (1 = 72 dpi): 2 gives 144 dpi, sharp enough for Tesseract.
PNG_SCALE = 2

SELLER = ["Hugging Bakery Ltd", "12 Transformer Street", "Lyon, France"]
CUSTOMER = ["Pipeline Playground School", "5 Attention Avenue", "Seoul, Korea"]
ITEMS = [("Croissants (box of 12)", 3, 18.00), ("Sourdough loaves", 4, 6.50), ("Coffee beans 1 kg", 2, 24.00)]
INVOICE_NUMBER = "INV-2024-0042"
INVOICE_DATE = "March 4, 2024"
DUE_DATE = "April 3, 2024"


def write_speech(path: Path) -> Path:
    """espeak-ng's reading of SPEECH, resampled to 16 kHz and stored as Ogg Vorbis."""
    import soundfile as sf
    import soxr

    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), SPEECH], check=True)
        samples, rate = sf.read(wav, dtype="float32")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, soxr.resample(samples, rate, SPEECH_RATE), SPEECH_RATE, format="OGG", subtype="VORBIS")
    return path


def write_sound_parts(path: Path) -> Path:
    """A beep, silence and white noise, 10 s each (seeded noise: the same file every run)."""
    import numpy as np
    import soundfile as sf

    times = np.arange(10 * SPEECH_RATE) / SPEECH_RATE
    beep = 0.3 * np.sin(2 * np.pi * 1000 * times)
    noise = 0.1 * np.random.default_rng(0).standard_normal(times.size)
    samples = np.concatenate([beep, np.zeros(times.size), noise]).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, SPEECH_RATE, format="OGG", subtype="VORBIS")
    return path


def write_invoice_pdf(path: Path) -> Path:
    """The two-page invoice (A4, Helvetica, a real text layer)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    width, height = A4
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setTitle(f"Invoice {INVOICE_NUMBER}")

    def lines(x: float, y: float, texts: list[str], size: int = 12, gap: float = 17) -> float:
        pdf.setFont("Helvetica", size)
        for text in texts:
            pdf.drawString(x, y, text)
            y -= gap
        return y

    pdf.setFont("Helvetica-Bold", 28)
    pdf.drawString(72, height - 90, "INVOICE")
    lines(72, height - 125, SELLER)
    lines(360, height - 125, [f"Invoice number: {INVOICE_NUMBER}", f"Date: {INVOICE_DATE}"])
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawString(72, height - 210, "Bill to:")
    lines(72, height - 228, CUSTOMER)
    y = height - 320
    pdf.setFont("Helvetica-Bold", 12)
    for x, title in ((72, "Description"), (330, "Quantity"), (420, "Price"), (490, "Amount")):
        pdf.drawString(x, y, title)
    pdf.line(72, y - 6, width - 72, y - 6)
    pdf.setFont("Helvetica", 12)
    total = 0.0
    for description, quantity, price in ITEMS:
        y -= 24
        amount = quantity * price
        total += amount
        for x, text in ((72, description), (330, str(quantity)), (420, f"{price:.2f}"), (490, f"{amount:.2f}")):
            pdf.drawString(x, y, text)
    pdf.line(72, y - 10, width - 72, y - 10)
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(330, y - 36, "Total:")
    pdf.drawString(490, y - 36, f"EUR {total:.2f}")
    lines(72, 90, ["Payment terms and bank details: see page 2."], size=10)
    pdf.showPage()

    pdf.setFont("Helvetica-Bold", 20)
    pdf.drawString(72, height - 90, "Payment terms")
    lines(
        72,
        height - 130,
        [
            f"Invoice number: {INVOICE_NUMBER}",
            f"Amount due: EUR {total:.2f}",
            f"Due date: {DUE_DATE}",
            "Payment by bank transfer within 30 days.",
            "Bank: Open Source Savings Bank",
            "IBAN: FR00 1234 5678 9012 3456 7890 123 (an example)",
            "Thank you for your order!",
        ],
        size=12,
        gap=20,
    )
    pdf.showPage()
    pdf.save()
    return path


def write_page_png(pdf_path: Path, path: Path) -> Path:
    """Page 1 of the PDF as a greyscale PNG (what a scanned or photographed invoice gives)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf_path))
    try:
        image = document[0].render(scale=PNG_SCALE).to_pil().convert("L")
    finally:
        document.close()
    image.save(path, optimize=True)
    return path


def write_bouncing_ball(path: Path, seconds: int = 3, fps: int = 25, size: int = 224) -> Path:
    """A red ball bouncing across a grey floor: frames drawn with Pillow, piped to ffmpeg as H.264 (single
    thread and bit-exact, so a rerun gives the same bytes)."""
    import math

    from PIL import Image, ImageDraw

    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is not installed (apt-get install ffmpeg)")
    radius, floor = size // 10, size * 4 // 5
    frames = []
    for n in range(seconds * fps):
        t = n / fps
        x = radius + (size - 2 * radius) * t / seconds
        y = floor - radius - abs(math.sin(math.pi * 1.5 * t)) * size / 2
        frame = Image.new("RGB", (size, size), (200, 225, 245))
        draw = ImageDraw.Draw(frame)
        draw.rectangle((0, floor, size, size), fill=(120, 120, 120))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(220, 30, 30))
        frames.append(frame.tobytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    command = ["ffmpeg", "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    command += ["-s", f"{size}x{size}", "-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", "slow"]
    command += ["-crf", "28", "-pix_fmt", "yuv420p", "-threads", "1", "-fflags", "+bitexact"]
    command += ["-flags", "+bitexact", "-movflags", "+faststart", str(path)]
    subprocess.run(command, input=b"".join(frames), check=True)
    return path


def write_turned_house(source: Path, path: Path) -> Path:
    """The house picture seen again: turned 12 degrees and zoomed in 1.25 times, the same size."""
    from PIL import Image

    with Image.open(source) as house:
        turned = house.convert("RGB").rotate(12, resample=Image.Resampling.BICUBIC, fillcolor="white")
    width, height = turned.size
    crop = (width // 10, height // 10, width - width // 10, height - height // 10)
    path.parent.mkdir(parents=True, exist_ok=True)
    turned.crop(crop).resize((width, height), Image.Resampling.BICUBIC).save(path, optimize=True)
    return path


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "assets" / "examples"
    documents = out / "documents"
    documents.mkdir(parents=True, exist_ok=True)
    written = [
        write_speech(out / "speech" / "welcome.ogg"),
        write_sound_parts(out / "audio" / "beep_silence_noise.ogg"),
    ]
    written.append(write_invoice_pdf(documents / "invoice.pdf"))
    written.append(write_page_png(documents / "invoice.pdf", documents / "invoice.png"))
    written.append(write_bouncing_ball(out / "video" / "bouncing_ball.mp4"))
    written.append(write_turned_house(ROOT / "assets" / "examples" / "house.png", out / "pairs" / "house_turned.png"))
    for path in written:
        print(f"{path}  {path.stat().st_size / 1024:.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
