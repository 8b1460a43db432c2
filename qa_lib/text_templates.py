"""Phrase banks for the sample generator: transcript steps and VOC verbatims (zh / en).

Plain data. Steps follow the scorecards: a ``good`` and a ``bad`` rendering per item, so a
transcript says what the evaluation scored. ``{…}`` fields are filled by the generator.
"""

from __future__ import annotations

AGENT = {"zh": "坐席：", "en": "Agent: "}
CUSTOMER = {"zh": "客户：", "en": "Customer: "}

CITIES = ["北京", "上海", "广州", "深圳", "成都", "武汉", "杭州", "西安", "南京", "重庆"]
CITIES_EN = ["Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Chengdu", "Wuhan", "Hangzhou", "Xi'an"]
BRANDS = ["Aurora", "Beacon", "Compass"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉玲建国文斌宇浩凯健俊帆欣怡佳琪雪梅晨阳")
EN_GIVEN = ["Alex", "Sam", "Jamie", "Chris", "Taylor", "Jordan", "Morgan", "Casey", "Robin", "Lee"]

# Customer's opening by contact topic.
NEED = {
    "zh": {
        "navigation": ["我的导航在{city}一直定位不准，老是偏到旁边的路上。", "导航规划的路线绕远了，想问问怎么回事。"],
        "traffic_violation": ["我想查一下车辆有没有违章记录。", "帮我查查上个月在{city}的违章。"],
        "usage": ["语音导航怎么设置成普通话播报？", "收藏的地址怎么同步到新车机上？"],
        "tariff": ["流量套餐到期了，续费是怎么收费的？", "我想了解一下服务年费包含哪些内容。"],
        "map_update": ["地图升级一直失败，提示下载错误。", "新修的路地图上还没有，什么时候更新地图？"],
        "device_fault": ["车机屏幕黑屏了，重启也没用。", "导航主机一直死机，开机后卡在启动画面。"],
        "record_update": [], "activation": [], "satisfaction_survey": [], "repair_followup": [],
    },
    "en": {
        "navigation": ["My navigation keeps placing me on the wrong road in {city}.", "The route planner sends me a long way round."],
        "traffic_violation": ["I'd like to check whether my car has any traffic violations."],
        "usage": ["How do I switch the voice guidance language?", "How can I move my saved places to the new head unit?"],
        "tariff": ["My data plan expired, how much is the renewal?"],
        "map_update": ["The map update keeps failing with a download error.", "A new road isn't on the map yet, when is the next update?"],
        "device_fault": ["The screen went black and restarting didn't help.", "The head unit freezes on the start-up screen."],
    },
}

ANSWER = {
    "zh": {
        "good": {
            "navigation": "请您在空旷处重新搜星，并在设置里打开“辅助定位”，如果仍然偏移我们安排售后检测。",
            "traffic_violation": "已为您查询，近30天没有新的违章记录。",
            "usage": "在“设置-声音-播报语言”里选择普通话即可，设置后立即生效。",
            "tariff": "续费为每年120元，包含实时路况和在线地图升级。",
            "map_update": "请连接稳定的Wi-Fi后在“系统-地图升级”重新下载，本季度升级免费。",
            "device_fault": "请长按电源键10秒强制重启；如仍黑屏，需要到店检测，我为您预约最近的服务站。",
        },
        "bad": {
            "navigation": "定位不准一般都是您手机的问题，我们这边没办法。",
            "traffic_violation": "违章我们查不了，您自己去交管网站查吧。",
            "usage": "这个功能好像没有，具体我也不清楚。",
            "tariff": "续费大概三四百吧，具体以账单为准。",
            "map_update": "地图升级是要收费的，每次两百元。",
            "device_fault": "黑屏的话您把电瓶拔了重新接一下就好了。",
        },
    },
    "en": {
        "good": {
            "navigation": "Please re-acquire satellites in an open area and turn on assisted positioning; if it still drifts we'll book a check.",
            "traffic_violation": "I've checked: no new violations in the last 30 days.",
            "usage": "Go to Settings, Sound, Guidance language and pick English; it applies at once.",
            "tariff": "The renewal is 120 yuan a year and includes live traffic and online map updates.",
            "map_update": "Please connect to a stable Wi-Fi and retry under System, Map update; this quarter's update is free.",
            "device_fault": "Hold the power button for 10 seconds to force a restart; if it stays black I'll book the nearest service center.",
        },
        "bad": {
            "navigation": "Wrong positions are usually your phone's fault, nothing we can do.",
            "traffic_violation": "We can't check violations, look it up yourself.",
            "usage": "I don't think that feature exists.",
            "tariff": "Somewhere around three or four hundred, check your bill.",
            "map_update": "Map updates cost 200 yuan each time.",
            "device_fault": "Just disconnect the battery and it'll be fine.",
        },
    },
}

STEPS = {
    "zh": {
        "greeting": ("您好，欢迎致电{brand}车载导航客服中心，工号{agent_no}，很高兴为您服务。", "喂，你好，说吧。"),
        "identity_check": ("为了保护您的信息安全，请问您是车主{surname}先生/女士吗？麻烦核对一下预留手机号。", None),
        "identity_reply": "对，我是。手机号是{phone}。",
        "needs_analysis": ("请问这个情况是从什么时候开始的？您的车型和系统版本是哪一款？", "嗯嗯，知道了。"),
        "needs_partial": "哦，是这个问题啊。",
        "empathy": ("非常理解您的心情，给您带来不便非常抱歉。", "这个不是我们这边的问题。"),
        "empathy_partial": "好的。",
        "escalation_handling": ("这个问题需要售后部门处理，我已经为您登记，我们会在明天下午三点前给您回电。", "这个我处理不了，你自己打售后电话吧。"),
        "confirmation": ("跟您确认一下，刚才的处理方式您都清楚了吗？", None),
        "confirmation_reply": "清楚了，谢谢。",
        "closing": ("请问还有其他可以帮您的吗？感谢您的来电，祝您用车愉快，再见。", "好了，就这样吧。"),
        "email": "你们把说明发到我邮箱{email}吧。",
        # follow-up call (seed 003)
        "owner_confirmed": ("您好，请问是{surname}先生/女士吗？您是这辆车的车主吧？", None),
        "owner_reply": "是的，是我。",
        "introduction": ("我是{brand}特约店客服{agent_name}，感谢您上周到店保养，今天给您做个简短回访。", "我是店里的，问您几个问题。"),
        "introduction_partial": "我是店里客服，做个回访。",
        "prepared_questions": ("请问保养后车辆使用正常吗？您对这次服务的整体满意度如何？", "车还行吧？"),
        "prepared_partial": "车用着怎么样？",
        "survey_reply_ok": "挺好的，没什么问题。",
        "survey_reply_complaint": "保养完以后导航老是重启，而且等了两个多小时，很不满意。",
        "record_confirmed": ("我跟您确认一下记录：车辆使用正常，对服务满意，对吗？", None),
        "complaint_opened": ("非常抱歉，我已经为您登记投诉，24小时内会有专人联系您处理。", "哦，那您下次来店里再说吧。"),
        "fu_closing": ("感谢您的支持，请问还有其他需要吗？祝您用车愉快，再见。", "好，拜拜。"),
        "courtesy_fault": "那个……就是说……你懂我意思吧。",
    },
    "en": {
        "greeting": ("Good morning, thank you for calling {brand} navigation support, this is agent {agent_no}, how can I help?", "Yeah, hello, go ahead."),
        "identity_check": ("For your security, am I speaking with the owner, Mr/Ms {surname}? Could you confirm the registered phone number?", None),
        "identity_reply": "Yes, that's me. It's {phone}.",
        "needs_analysis": ("When did this start, and which model and software version do you have?", "Uh-huh, okay."),
        "needs_partial": "Oh, that problem.",
        "empathy": ("I understand, and I'm sorry for the trouble this has caused.", "That's not our problem."),
        "empathy_partial": "Okay.",
        "escalation_handling": ("This needs our after-sales team; I've logged it and we'll call you back before 3 pm tomorrow.", "I can't handle that, call after-sales yourself."),
        "confirmation": ("Just to confirm, is everything we went through clear?", None),
        "confirmation_reply": "Yes, clear, thanks.",
        "closing": ("Is there anything else I can help with? Thanks for calling and have a safe drive.", "Right, that's it then."),
        "email": "Please send the instructions to {email}.",
        "owner_confirmed": ("Hello, am I speaking with Mr/Ms {surname}, the owner of the car?", None),
        "owner_reply": "Yes, speaking.",
        "introduction": ("This is {agent_name} from the {brand} service center; thank you for your visit last week, I'm calling for a short follow-up.", "I'm from the store, a few questions."),
        "introduction_partial": "Store customer service, quick follow-up.",
        "prepared_questions": ("Is the car running well since the service, and how satisfied were you overall?", "Car okay?"),
        "prepared_partial": "How's the car?",
        "survey_reply_ok": "All fine, no problems.",
        "survey_reply_complaint": "Since the service the navigation keeps rebooting, and I waited over two hours. Not happy.",
        "record_confirmed": ("Let me read back what I noted: car running fine, satisfied with the service, correct?", None),
        "complaint_opened": ("I'm very sorry; I've logged a complaint and someone will contact you within 24 hours.", "Well, mention it next time you're at the store."),
        "fu_closing": ("Thank you for your support, anything else we can do? Have a safe drive, goodbye.", "Okay, bye."),
        "courtesy_fault": "Like, you know, whatever, you get what I mean.",
    },
}

ITEM_COMMENTS = {
    "greeting": "未使用标准问候语/未报工号",
    "identity_check": "涉及账户信息前未核实车主身份",
    "needs_analysis": "未充分提问确认问题现象",
    "empathy": "语气生硬，未表示理解",
    "correct_answer": "答复与产品手册不符",
    "escalation_handling": "转接/升级未约定回电时间",
    "info_logged": "工单分类与通话内容不一致",
    "confirmation": "结束前未复述确认",
    "closing": "未使用标准结束语",
    "owner_confirmed": "未确认车主本人",
    "introduction": "自我介绍或说明目的不完整",
    "prepared_questions": "未按准备的问题询问",
    "record_confirmed": "未复述确认记录",
    "complaint_opened": "客户抱怨未启动投诉流程",
    "duration_ok": "通话时长不在2-3分钟",
    "courtesy_faults": "出现口头禅/不礼貌用语",
}

VOC_TOPICS = ("navigation", "map_update", "device_fault", "billing", "delivery_delay", "rude_service", "praise")

VOC = {
    "zh": {
        "navigation": ["导航经常定位漂移，在{city}高架上根本用不了。", "路线规划太绕了，明明有近路却不走。", "导航语音播报延迟，经常错过路口。", "隧道里导航就失灵，出来半天才恢复。"],
        "map_update": ["地图升级一直失败，试了好几次都提示下载错误。", "新开通的路地图上没有，升级完还是旧地图。", "地图更新后导航变得很卡，还不如不升级。", "升级地图要等好几个小时，进度条一直不动。", "这次地图升级把我收藏的地址全清空了。"],
        "device_fault": ["车机屏幕经常黑屏，重启也没用。", "导航主机死机好几次了，开车时很危险。", "触摸屏失灵，点哪里都没反应。", "倒车影像和导航一起卡死了。"],
        "billing": ["流量套餐没到期就被扣费了，莫名其妙。", "年费收费不透明，账单看不懂。", "续费后服务还是没恢复，钱白交了。"],
        "delivery_delay": ["配件等了两个星期还没到货。", "说好三天寄到的设备，一周了还没发货。", "维修寄回的主机物流一直没更新。"],
        "rude_service": ["客服态度很差，说话很不耐烦。", "打了三次电话，每次都被推来推去。", "客服直接挂我电话，太不尊重人了。"],
        "app_connect": ["手机App一直连不上车，远程启动用不了。", "App绑定车辆总是提示网络异常，蓝牙配对也失败。", "远程控制App登录后显示车辆离线，空调开不了。", "手机App升级后就连不上车了，远程解锁失灵。"],
        "praise": ["客服很耐心，一步一步教我设置，非常满意。", "问题当场就解决了，效率很高，点赞。", "回访很及时，服务态度好。", "售后处理很专业，谢谢。"],
    },
    "en": {
        "navigation": ["The navigation drifts all the time on the {city} ring road.", "Route planning takes weird detours.", "Voice guidance is late and I keep missing exits."],
        "map_update": ["The map update fails every time with a download error.", "New roads are still missing after the update.", "After the map update everything is slow.", "The update wiped all my saved places."],
        "device_fault": ["The head unit screen keeps going black.", "The unit froze while I was driving, dangerous.", "The touch screen stopped responding."],
        "billing": ["I was charged before my plan expired.", "The annual fee is confusing and the bill makes no sense."],
        "delivery_delay": ["The spare part still hasn't arrived after two weeks.", "My repaired unit has been stuck in shipping for a week."],
        "rude_service": ["The agent was rude and impatient.", "I was passed around three times and nobody helped."],
        "app_connect": ["The phone app cannot connect to the car, remote start does not work.", "The app says my vehicle is offline and Bluetooth pairing fails.", "Since the app update I cannot unlock the car remotely."],
        "praise": ["The agent was patient and walked me through every step.", "Solved on the first call, great service.", "Quick and friendly follow-up, thank you."],
    },
}

VOC_OPENERS = {"zh": ["", "", "你好，", "我想反映一下，", "投诉：", "建议："], "en": ["", "", "Hi, ", "Feedback: ", "Complaint: "]}
VOC_CLOSERS = {"zh": ["", "", "希望尽快处理。", "请给个说法。", "谢谢。"], "en": ["", "", " Please fix this.", " Thanks."]}
VOC_PII = {"zh": "我的电话{phone}，邮箱{email}，有问题联系我。", "en": " Call me on {phone} or e-mail {email}."}

#: Mean CSAT (1-5) per VOC topic.
VOC_CSAT = {"navigation": 2.8, "map_update": 2.4, "device_fault": 2.2, "billing": 2.5, "delivery_delay": 2.3, "rude_service": 1.5, "praise": 4.7, "app_connect": 2.0}
