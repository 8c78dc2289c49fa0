"""Music: Suno through the images endpoint, saved as .mp3.

python examples/suno_music.py --offline --out out/
"""

from __future__ import annotations

from _common import example_parser, gateway

import airforce_openai as af


def main() -> None:
    args = example_parser(__doc__).parse_args()
    with gateway(args.offline):
        client = af.OpenAI()
        response = client.images.generate(
            model="suno-v5",
            prompt="A night drive through neon rain",
            extra_body=af.suno_params(instrumental=True, style="synthwave, retro"),
        )
        # The link ends in /image.jpeg whatever it serves; files are named by their content.
        for path in af.save_images(response, args.out, prefix="night-drive"):
            print(path)


if __name__ == "__main__":
    main()
