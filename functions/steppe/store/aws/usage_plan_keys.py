"""UsagePlans on API Gateway: one API key per partner, in the stack's partner usage plan.

The plan is found by name (the template names it after the stack), since a
function's environment cannot name its own API's plan id without a circular
dependency. Keys are named after their partner, for the console; their
value is what the authorizer returns.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from steppe.store.port.usage_plans import UsagePlans


class ApiGatewayUsagePlans(UsagePlans):
    def __init__(self, apigateway: Any, plan_name: str) -> None:
        self._client = apigateway
        self._plan_name = plan_name
        self._plan_id: str | None = None

    def _plan(self) -> str:
        if self._plan_id is None:
            for page in self._client.get_paginator("get_usage_plans").paginate():
                for plan in page.get("items", []):
                    if plan.get("name") == self._plan_name:
                        self._plan_id = plan["id"]
                        return plan["id"]
            raise LookupError(f"there is no API Gateway usage plan named '{self._plan_name}'")
        return self._plan_id

    def _key_id(self, usage_key: str) -> str | None:
        for page in self._client.get_paginator("get_api_keys").paginate(includeValues=True):
            for key in page.get("items", []):
                if key.get("value") == usage_key:
                    return key["id"]
        return None

    def register(self, partner_name: str, usage_key: str) -> None:
        plan = self._plan()
        key_id = self._key_id(usage_key)
        if key_id is None:
            key_id = self._client.create_api_key(
                name=f"steppe-partner-{partner_name}",
                description=f"steppe partner {partner_name}: its usage plan key (never sent by it)",
                enabled=True,
                value=usage_key,
            )["id"]
        try:
            self._client.create_usage_plan_key(usagePlanId=plan, keyId=key_id, keyType="API_KEY")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConflictException":
                raise  # Conflict: the key is in the plan already

    def unregister(self, usage_key: str) -> None:
        key_id = self._key_id(usage_key)
        if key_id is None:
            return
        for call, params in (
            (self._client.delete_usage_plan_key, {"usagePlanId": self._plan(), "keyId": key_id}),
            (self._client.delete_api_key, {"apiKey": key_id}),
        ):
            try:
                call(**params)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NotFoundException":
                    raise
