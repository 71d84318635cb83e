"""`python -m devstack.motoserver -H HOST -p PORT`: moto server with DynamoDB's conditional writes atomic,
as on AWS (see devstack.localaws.make_moto_dynamodb_atomic). LocalAws runs it as its separate process."""

from __future__ import annotations

from moto.server import main

from .localaws import make_moto_dynamodb_atomic

if __name__ == "__main__":
    make_moto_dynamodb_atomic()
    main()
