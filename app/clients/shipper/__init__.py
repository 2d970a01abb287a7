"""The shipper: runs a training command and ships its output to the service."""

from app.clients.shipper.sender import SenderSettings
from app.clients.shipper.ship import Shipped, ship, ship_run
from app.clients.shipper.spool import Spool
from app.clients.shipper.stop import StopSignal

__all__ = ["SenderSettings", "Shipped", "Spool", "StopSignal", "ship", "ship_run"]
