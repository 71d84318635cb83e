// Runs the official Node SDK (npm `solapi` 6.x) against the sandbox: upload, SMS/LMS/MMS/AlimTalk, read back.
// Configured only by the environment the test gives it; prints one JSON document of what the SDK returned.
import { createRequire } from "node:module";

const env = process.env;
const { SolapiMessageService } = createRequire(`${env.SOLAPI_SDK_DIR}/`)("solapi");

// SDK 6.x builds its services with a hard-coded https://api.solapi.com and offers no option to change it;
// the narrowest override is to rewrite that one origin where the SDK calls fetch.
const realFetch = globalThis.fetch;
globalThis.fetch = (url, init) => realFetch(String(url).replace("https://api.solapi.com", env.SOLAPI_BASE_URL), init);

const service = new SolapiMessageService(env.SOLAPI_API_KEY, env.SOLAPI_API_SECRET);
const from = env.SOLAPI_FROM;
const to = env.SOLAPI_TO;
const upload = await service.uploadFile(env.SOLAPI_IMAGE, "MMS");
const sent = await service.send(
  [
    { from, to, text: "[Shop] 노드 인증번호 654321" },
    { from, to, subject: "배송 안내", text: "주문하신 상품이 발송되었습니다. ".repeat(6) },
    { from, to, subject: "사진", text: "사진을 보내드립니다.", imageId: upload.fileId },
    {
      from,
      to,
      kakaoOptions: { pfId: env.SOLAPI_PF_ID, templateId: "A1111", variables: { "#{name}": "홍길동", "#{order}": "1234" } },
    },
  ],
  { allowDuplicates: true, showMessageList: true },
);
const groupId = sent.groupInfo.groupId;
const listed = await service.getMessages({ groupId, limit: 10 });
const group = await service.getGroup(groupId);
const inGroup = await service.getGroupMessages(groupId);
const balance = await service.getBalance();
const templates = await service.getKakaoAlimtalkTemplates();
console.log(
  JSON.stringify({
    fileId: upload.fileId,
    groupId,
    sentIds: (sent.messageList ?? []).map((m) => m.messageId),
    failed: sent.failedMessageList,
    listed: Object.fromEntries(Object.entries(listed.messageList).map(([id, m]) => [id, { type: m.type, statusCode: m.statusCode }])),
    total: group.count.total,
    inGroup: Object.keys(inGroup.messageList).sort(),
    balance: balance.balance,
    templateIds: templates.templateList.map((t) => t.templateId),
  }),
);
