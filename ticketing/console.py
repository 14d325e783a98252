"""The `ticketing` console script: Flask's command group around create_app."""
from flask.cli import FlaskGroup, routes_command, shell_command

from ticketing import create_app


class TicketingGroup(FlaskGroup):
    def __init__(self, **kwargs):
        super().__init__(create_app=create_app, add_default_commands=False,
                         load_dotenv=False, set_debug_flag=False, **kwargs)
        self.add_command(shell_command)
        self.add_command(routes_command)


def main():
    TicketingGroup(help="Contact-center ticketing and workflow engine.").main(
        prog_name="ticketing")
