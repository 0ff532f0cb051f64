"""What a provider SDK's response says was used: provider, model, billed mode, usage.

Reads the responses of the official SDKs as they come back from a direct call — an
Anthropic ``Message``, an OpenAI ``ChatCompletion`` or Responses-API ``Response``, a
Gemini ``generateContent`` body (dict or object with ``usageMetadata``) — with the same
normalizers the adapters use, so ``track_cost`` prices exactly what the stream would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from frugalflow.client.errors import TrackingError
from frugalflow.costing.rates import Mode
from frugalflow.providers.base import Usage
from frugalflow.providers.gemini_adapter import gemini_usage
from frugalflow.providers.openai_adapter import billed_mode, chat_usage


@dataclass(frozen=True)
class SdkCall:
    provider: str
    model: str
    usage: Usage
    mode: Mode
    call_id: str | None  # the provider's id of the response (msg_…, chatcmpl-…, resp_…)


def read_response(response: Any) -> SdkCall:
    """The call a response describes; ``TrackingError`` (``unsupported_response``) if none."""
    if isinstance(response, dict):
        return _gemini(response)
    kind = getattr(response, "type", None) or getattr(response, "object", None)
    if kind == "message":
        from frugalflow.providers.anthropic_adapter import message_usage

        return SdkCall("anthropic", response.model, message_usage(response), "standard",
                       getattr(response, "id", None))  # fmt: skip
    if kind == "chat.completion":
        return SdkCall(
            "openai", response.model, chat_usage(response.usage),
            billed_mode(getattr(response, "service_tier", None)), getattr(response, "id", None),
        )  # fmt: skip
    if kind == "response":
        return SdkCall(
            "openai", response.model, _responses_usage(response.usage),
            billed_mode(getattr(response, "service_tier", None)), getattr(response, "id", None),
        )  # fmt: skip
    metadata = getattr(response, "usage_metadata", None)
    if metadata is not None:  # google-genai's GenerateContentResponse (snake_case fields)
        return _gemini(_camel(response, metadata))
    raise TrackingError(
        "unsupported_response",
        f"cannot read usage from a {type(response).__name__}: expected an Anthropic Message, "
        "an OpenAI ChatCompletion or Response, or a Gemini generateContent body",
    )


def _responses_usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    data = usage if isinstance(usage, dict) else usage.model_dump()
    cached = int((data.get("input_tokens_details") or {}).get("cached_tokens") or 0)
    return Usage(
        input_tokens=int(data.get("input_tokens") or 0) - cached,
        output_tokens=int(data.get("output_tokens") or 0),
        cache_read_tokens=cached,
    )


GEMINI_COUNTS = (
    "prompt_token_count", "cached_content_token_count", "candidates_token_count",
    "thoughts_token_count",
)  # fmt: skip


def _camel(response: Any, metadata: Any) -> dict[str, Any]:
    """An SDK object's fields under the REST body's names (``usageMetadata``…)."""

    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    tier = getattr(response, "service_tier", None) or getattr(response, "serviceTier", None)
    return {
        "modelVersion": getattr(response, "model_version", None),
        "responseId": getattr(response, "response_id", None),
        "serviceTier": getattr(tier, "value", tier),
        "usageMetadata": {camel(n): getattr(metadata, n, None) or 0 for n in GEMINI_COUNTS},
    }


def _gemini(body: dict[str, Any]) -> SdkCall:
    metadata = body.get("usageMetadata")
    model = body.get("modelVersion")
    if not isinstance(metadata, dict) or not isinstance(model, str):
        raise TrackingError(
            "unsupported_response",
            "a Gemini body needs 'usageMetadata' and 'modelVersion' (generateContent)",
        )
    tier = body.get("serviceTier")
    mode: Mode = "flex" if isinstance(tier, str) and tier.lower() == "flex" else "standard"
    return SdkCall("gemini", model, gemini_usage(metadata), mode, body.get("responseId"))
