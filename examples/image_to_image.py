"""Image to image: a local file as the reference for a new render.

    python examples/image_to_image.py --offline --out out/
    python examples/image_to_image.py --image character.png --out out/

Without --image, a reference is generated first, then reused from disk.
"""

from __future__ import annotations

from pathlib import Path

from _common import example_parser, gateway

import airforce_openai as af


def main() -> None:
    parser = example_parser(__doc__)
    parser.add_argument("--image", type=Path, help="the reference image (default: make one)")
    args = parser.parse_args()
    with gateway(args.offline):
        client = af.OpenAI()
        reference = args.image or make_reference(client, args.out)
        response = client.images.generate(
            model="flux-2-dev",
            prompt="Same character, now in a snowy forest",
            # A path is read, checked to be an image, and sent inline as base64.
            extra_body=af.image_params(aspect_ratio="16:9", input_images=[reference]),
        )
        for path in af.save_images(response, args.out, prefix="snowy-forest"):
            print(path)


def make_reference(client: af.OpenAI, out: Path) -> Path:
    """Render a character to use as the reference, and save it."""
    response = client.images.generate(
        model="flux-2-dev",
        prompt="A friendly red fox in a scarf, character sheet",
        response_format="b64_json",
    )
    (path,) = af.save_images(response, out, prefix="reference")
    print(path)
    return path


if __name__ == "__main__":
    main()
