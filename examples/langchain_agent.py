"""LangChain: an agent turn that calls the image tool; a scripted chat model stands in for the LLM.

pip install 'airforce-openai[langchain]'
python examples/langchain_agent.py --offline --out out/
"""

from __future__ import annotations

from _common import example_parser, gateway
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

import airforce_openai as af
from airforce_openai.langchain import AirforceImageTool


def main() -> None:
    args = example_parser(__doc__).parse_args()
    with gateway(args.offline):
        tool = AirforceImageTool(client=af.OpenAI(), model="flux-2-dev", output_dir=args.out)

        # A real agent binds the tool to a chat model, e.g. ChatOpenAI(...).bind_tools([tool]);
        # the schema it sees offers only the aspect ratios, n and inputs flux-2-dev accepts.
        chat = GenericFakeChatModel(
            messages=iter(
                [
                    AIMessage(
                        content="",
                        tool_calls=[
                            {
                                "name": tool.name,
                                "args": {"prompt": "A sea otter poster", "aspect_ratio": "16:9"},
                                "id": "call_1",
                            }
                        ],
                    ),
                    AIMessage(content="Here is your poster."),
                ]
            )
        )

        messages: list[BaseMessage] = [HumanMessage("Make me a wide poster of a sea otter.")]
        reply = chat.invoke(messages)
        messages.append(reply)
        for call in reply.tool_calls:
            result = tool.invoke(call)  # a ToolMessage; its artifact is the ImagesResponse
            print(result.content)
            messages.append(result)
        print(chat.invoke(messages).content)


if __name__ == "__main__":
    main()
