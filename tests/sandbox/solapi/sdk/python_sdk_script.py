"""Runs INSIDE a venv with the official `solapi` SDK: sends SMS, LMS, MMS and AlimTalk, reads them back.

Configured only by the environment the test gives it; prints one JSON document of what the SDK returned.
"""

from __future__ import annotations

import json
import os
import sys

from solapi import SolapiMessageService
from solapi.model import RequestMessage
from solapi.model.kakao.kakao_option import KakaoOption
from solapi.model.request.groups.get_groups import GetGroupsRequest
from solapi.model.request.messages.get_messages import GetMessagesRequest
from solapi.model.request.send_message_request import SendRequestConfig


def main() -> None:
    env = os.environ
    service = SolapiMessageService(env["SOLAPI_API_KEY"], env["SOLAPI_API_SECRET"])
    # The SDK hard-codes https://api.solapi.com in its constructor; its public base_url attribute is
    # the narrowest override it offers.
    service.base_url = env["SOLAPI_BASE_URL"]
    sender, phone = env["SOLAPI_FROM"], env["SOLAPI_TO"]

    upload = service.upload_file(env["SOLAPI_IMAGE"])
    messages = [
        RequestMessage(from_=sender, to=phone, text="[Shop] 인증번호 123456"),
        RequestMessage(from_=sender, to=phone, subject="배송 안내", text="주문하신 상품이 발송되었습니다. " * 6),
        RequestMessage(from_=sender, to=phone, subject="사진", text="사진을 보내드립니다.", image_id=upload.file_id),
        RequestMessage(
            from_=sender,
            to=phone,
            kakao_options=KakaoOption(
                pf_id=env["SOLAPI_PF_ID"],
                template_id="A1111",
                variables={"name": "홍길동", "order": "1234"},
            ),
        ),
    ]
    sent = service.send(messages, SendRequestConfig(allow_duplicates=True, show_message_list=True))
    group_id = sent.group_info.group_id
    listed = service.get_messages(GetMessagesRequest(group_id=group_id, limit=10))
    group = service.get_group(group_id)
    in_group = service.get_group_messages(group_id)
    groups = service.get_groups(GetGroupsRequest(group_id=group_id))
    balance = service.get_balance()
    print(
        json.dumps(
            {
                "file_id": upload.file_id,
                "group_id": group_id,
                "sent_ids": [m.message_id for m in sent.message_list or []],
                "sent_types": [m.status_code for m in sent.message_list or []],
                "failed": [m.model_dump() for m in sent.failed_message_list or []],
                "registered_success": sent.group_info.count.registered_success,
                "listed": {
                    k: {
                        "type": str(m.type),
                        "to": m.to,
                        "text": m.text,
                        "image_id": m.image_id,
                        "status_code": m.status_code,
                    }
                    for k, m in listed.message_list.items()
                },
                "group_total": group.count.total,
                "in_group": sorted(in_group.message_list),
                "groups": sorted(groups.group_list),
                "balance": balance.balance,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
    sys.exit(0)
