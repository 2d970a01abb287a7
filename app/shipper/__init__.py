"""The shipper: runs a training command and ships its output to the service."""

from app.shipper.sender import SenderSettings
from app.shipper.ship import Shipped, ship, ship_run
from app.shipper.spool import Spool
from app.shipper.stop import StopSignal

__all__ = ["SenderSettings", "Shipped", "Spool", "StopSignal", "ship", "ship_run"]
