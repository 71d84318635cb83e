"""`notifier`: the operator's command line for kr-notifier.

Sender numbers, AlimTalk templates, bulk sends from a spreadsheet, record status and the
dead-letter queue, against a deployed stack or the local one (`make serve`). It sits outside
src/ on purpose: nothing here is packaged into the Lambda.
"""
