"""Switch an existing OpenAI codebase to api.airforce by changing one import.

    -from openai import OpenAI
    +from airforce_openai import OpenAI

    python examples/switch_codebase.py --offline --out out/

Calls, types and error handlers stay as they were; the client now reads
AIRFORCE_API_KEY, and never sends an OpenAI credential to the gateway.
"""

from __future__ import annotations

import openai
from _common import example_parser, gateway
from openai.types import ImagesResponse

import airforce_openai as af
from airforce_openai import OpenAI  # was: from openai import OpenAI

MODEL = "flux-2-dev"  # a model id from `airforce-openai models`


# Existing code, unchanged: it takes and returns the stock openai types.
def make_poster(client: openai.OpenAI, subject: str) -> ImagesResponse:
    return client.images.generate(
        model=MODEL, prompt=f"A poster of {subject}", n=1, response_format="b64_json"
    )


def main() -> None:
    args = example_parser(__doc__).parse_args()
    with gateway(args.offline):
        client = OpenAI()
        print(f"still an openai.OpenAI: {isinstance(client, openai.OpenAI)}")
        try:
            response = make_poster(client, "a sea otter")
        except openai.BadRequestError as exc:  # existing handlers keep working
            raise SystemExit(f"refused: {exc}") from exc
        # The gateway often answers JPEG; save_images names each file by its real format.
        for path in af.save_images(response, args.out, prefix="poster"):
            print(path)


if __name__ == "__main__":
    main()
