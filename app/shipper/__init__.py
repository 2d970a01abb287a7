"""The shipper: runs a training command and ships its output to the service."""

from app.shipper.sender import SenderSettings
from app.shipper.ship import Shipped, ship
from app.shipper.spool import Spool

__all__ = ["SenderSettings", "Shipped", "Spool", "ship"]
