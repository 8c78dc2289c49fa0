"""Quickstart: one image from a prompt, saved under its real format; a bad request refused locally.

python examples/quickstart.py --offline --out out/
"""

from __future__ import annotations

from _common import example_parser, gateway

import airforce_openai as af


def main() -> None:
    args = example_parser(__doc__).parse_args()
    with gateway(args.offline):
        client = af.OpenAI()  # reads AIRFORCE_API_KEY
        response = client.images.generate(
            model="flux-2-dev",
            prompt="A cute baby sea otter floating on its back",
            extra_body=af.image_params(aspect_ratio="16:9"),
        )
        for path in af.save_images(response, args.out, prefix="otter"):
            print(path)

        # The catalog knows what each model accepts: this fails before anything is billed.
        try:
            client.images.generate(model="flux-2-dev", prompt="an otter", n=9)
        except af.CapabilityError as exc:
            print(f"refused before sending: {exc}")


if __name__ == "__main__":
    main()
