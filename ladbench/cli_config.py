"""Command-line options generated from a track's pydantic config model, and the error wrapper.

Each scalar field of the model becomes an option ``--field-name`` whose help is the field's
description and whose shown default is the model's: the model is the one owner of names,
defaults and descriptions. Table fields (the loss, a family's options) take repeatable
``key=value`` options; a model with a ``loss`` also gets the shorthands ``--method``,
``--divergence`` and ``--eta`` (``ladbench.losses.config``); every command gets ``--config FILE``
and ``-s key=value``. Every value is read as text and handed to the model, so a value from a
flag, a ``--config`` file, a ``-s`` override or a sweep spec goes through the same validation and
gives the same one-line message. The command receives the layered settings (``settings.layered``).
"""

from __future__ import annotations

import inspect
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import typer
from pydantic import BaseModel
from typer.core import TyperGroup
from typer.models import OptionInfo

from ladbench.errors import UserError
from ladbench.settings import layered, parse_assignment, parse_value

SETTINGS = "settings"  # the keyword argument through which a command receives its layered settings
KEYWORD = inspect.Parameter.KEYWORD_ONLY
INTERRUPTED = 130  # the exit status of a command stopped by Ctrl-C (128 + SIGINT), as a shell reports it
INVOKED: list[str] = []  # this invocation's arguments (set by ``OneLineErrors.main``): the command to rerun
_REPORTED: list[bool] = []  # an interrupt ``interrupts`` has reported (typer turns any other into a silent 130)


def rerun_command() -> str:
    """The command line that was run, as a user would type it again (``ladbench ...``)."""
    return shlex.join(["ladbench", *INVOKED])


@contextmanager
def interrupts(kept: Callable[[], str], verb: str = "resume with") -> Iterator[None]:
    """The one interrupt policy of every long command (``run``, ``sweep``, ``llm train|eval|pretrain``,
    ``figures``, ``claims``): Ctrl-C (KeyboardInterrupt) prints one line, ``ladbench: interrupted:
    <kept()>; <verb>: <the same command>``, and exits with status 130, no traceback. ``kept`` says
    what is on disk (called after the interrupt, so it can count what finished); what it names is
    a complete result or one that ``ladbench.results.load`` reports as interrupted, never damage."""
    try:
        yield
    except KeyboardInterrupt:
        typer.echo(f"ladbench: interrupted: {kept()}; {verb}: {rerun_command()}", err=True)
        _REPORTED.append(True)
        raise typer.Exit(INTERRUPTED) from None


def refuse_repeated_options(command, args: list[str]) -> None:
    """An option given twice (``--steps 3 --steps 4``) is a UserError: click would keep the last
    silently. Repeatable options (``-o``, ``-e``, ``-s``) are checked per key by their command.
    An empty path (``--out ""``) is one too: it would silently mean the current directory."""
    rest = list(args)  # typer vendors click (typer._click): the classes are told apart by their attributes
    while hasattr(command, "commands") and rest and rest[0] in command.commands:
        command, rest = command.commands[rest[0]], rest[1:]
    if hasattr(command, "commands"):
        return
    owners = {
        name: param
        for param in command.params
        if param.param_type_name == "option" and not param.multiple and not param.count
        for name in (*param.opts, *param.secondary_opts)
    }
    seen: dict[str, str] = {}
    for index, argument in enumerate(rest):
        if argument == "--":
            return
        name, equals, value = argument.partition("=")
        param = owners.get(name if name.startswith("--") else argument)
        if param is None:
            continue
        if not param.is_flag and not equals:
            value = rest[index + 1] if index + 1 < len(rest) else ""
        given = f"{name} {value}".strip() if not param.is_flag else argument
        if _is_path(param) and not param.is_flag and not value.strip():
            raise UserError(f"option {name} is empty (got {value!r}); give a path (an empty one would mean '.')")
        if param.name in seen:
            raise UserError(f"option {name} given twice ({seen[param.name]}, {given}); give it once")
        seen[param.name] = given


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a UserError into ``ladbench: error: <message>`` on stderr and exit status 2."""
    try:
        yield
    except UserError as error:
        typer.echo(f"ladbench: error: {str(error).splitlines()[0]}", err=True)
        raise typer.Exit(2) from None


# click's base exception as this typer raises it (recent typers vendor click as typer._click)
CLICK_ERROR = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException")


class OneLineErrors(TyperGroup):
    """The command group of ``ladbench`` (and ``ladbench llm``): click's usage errors (unknown
    option, missing value, a value click itself rejects) print as one ``ladbench: error:`` line
    naming the command's --help, like every other bad input, instead of a usage block and a box."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        INVOKED[:] = sys.argv[1:] if args is None else list(args)
        _REPORTED.clear()
        try:
            with user_errors():
                refuse_repeated_options(self, INVOKED)
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except CLICK_ERROR as error:
            context = getattr(error, "ctx", None)
            if type(error).__name__ == "NoArgsIsHelpError":  # a bare group: its help, as click shows it
                typer.echo(context.get_help())
                sys.exit(2)
            where = f"; see '{context.command_path} --help'" if context is not None else ""
            given = _given_value(sys.argv[1:] if args is None else list(args), _option_names(error))
            shown = given is not None and repr(given) not in error.format_message()
            got = f" (got {given!r})" if shown and type(error).__name__ != "NoSuchOption" else ""
            typer.echo(f"ladbench: error: {error.format_message().rstrip('.')}{got}{where}", err=True)
            sys.exit(2)
        except typer.Exit as exit:  # user_errors' exit status
            sys.exit(exit.exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        if status == INTERRUPTED and not _REPORTED:  # Ctrl-C in a command without words of its own
            typer.echo(
                f"ladbench: interrupted: nothing kept but the files already written (each atomically); "
                f"rerun: {rerun_command()}",
                err=True,
            )
        sys.exit(status if isinstance(status, int) else 0)


def _option_names(error) -> list[str]:
    """The spellings of the option a click error is about (none for an argument or a command)."""
    param = getattr(error, "param", None)
    if param is not None:
        return list(getattr(param, "opts", None) or [])
    return [error.option_name] if getattr(error, "option_name", None) else []


def _given_value(args: list[str], names: list[str]) -> str | None:
    """The text given for the option spelled ``names`` on the command line (its last occurrence), if any."""
    given = None
    for index, argument in enumerate(args):
        name, equals, value = argument.partition("=")
        if name in names:
            given = value if equals else (args[index + 1] if index + 1 < len(args) else None)
    return given


def _is_path(param) -> bool:
    """Whether a command-line option takes a path (typer's own parameter records, or click's)."""
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    if annotation is not None:
        return annotation is Path or Path in get_args(annotation)
    return getattr(getattr(param, "type", None), "name", None) == "path"


def _refuse_repeated_keys(overrides: list[str]) -> None:
    """``-s steps=3 -s steps=4``: a UserError, not the last value kept silently."""
    given: dict[str, str] = {}
    for text in overrides:
        key = text.partition("=")[0].strip()
        if key in given:
            raise UserError(f"-s {key} given twice ({given[key]}, {text}); give it once")
        given[key] = text


def default_text(default: object) -> str:
    """``[default: x]`` for a help text (the bracket escaped from rich's markup)."""
    return f"\\[default: {'none' if default is None else default}]"


BOUNDS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))


def range_text(field) -> str:
    """`` [range: >= 1, <= 1000]`` from a pydantic field's bounds (its ge/gt/le/lt), for its --help."""
    bounds = [
        f"{symbol} {value:g}" if isinstance(value, float) else f"{symbol} {value}"
        for constraint in field.metadata
        for name, symbol in BOUNDS
        if (value := getattr(constraint, name, None)) is not None
    ]
    return f" \\[range: {', '.join(bounds)}]" if bounds else ""


def _metavar(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "|".join(map(str, get_args(annotation)))
    names = {int: "INT", float: "FLOAT", str: "TEXT", bool: "BOOL"}
    present = [names[arg] for arg in (get_args(annotation) or (annotation,)) if arg in names]
    return "|".join(present) or "VALUE"


class _LiveHelp(OptionInfo):
    """An option whose help text is computed each time typer builds the command (each run of
    ``ladbench``, each ``CliRunner.invoke`` of a test), not when the module is imported: a help
    that lists a registry names what is registered then, a family registered later included."""

    describe: Callable[[], str]

    @property
    def help(self) -> str:
        return self.describe()

    @help.setter
    def help(self, value: str | None) -> None:  # OptionInfo's own; the text is computed
        pass


def _option(
    name: str, *declarations: str, help: str | Callable[[], str], metavar: str | None = None, default: Any = None
) -> inspect.Parameter:
    """A keyword parameter carrying a typer option; ``help`` may be a function, called when --help is built."""
    annotation = list[str] if isinstance(default, list) else str | None
    option = typer.Option(
        default, *declarations, help=None if callable(help) else help, metavar=metavar, show_default=False
    )
    if callable(help):
        option.__class__ = _LiveHelp  # the same option, its help computed (typer.Option's defaults kept)
        option.describe = help
    return inspect.Parameter(name, KEYWORD, default=option, annotation=annotation)


def _field_help(model: type[BaseModel], name: str, default: Any) -> str:
    """A field's --help: its description, as ``model.live_description(name)`` words it now where the
    model has one (a description that lists a registry), then its default and range."""
    field = model.model_fields[name]
    live = getattr(model, "live_description", None)
    description = (live(name) if live is not None else None) or field.description
    return f"{description} {default_text(default)}{range_text(field)}"


NESTED = "__"  # a generated option's parameter name for a field of a nested config: curve__every is curve.every


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The config model a field holds as a table (``curve: CurveConfig | None``), else None."""
    models = [kind for kind in get_args(annotation) or (annotation,) if isinstance(kind, type)]
    return next((kind for kind in models if issubclass(kind, BaseModel)), None)


def _field_options(model: type[BaseModel], skip: tuple[str, ...], prefix: str = "") -> list[inspect.Parameter]:
    """One option per scalar field; a nested config's fields as ``--<field>-<name>`` (setting ``field.name``)."""
    parameters = []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        nested = _nested_model(field.annotation)
        if nested is not None:
            parameters += _field_options(nested, (), f"{prefix}{name}{NESTED}")
            continue
        default = None if field.is_required() else field.get_default(call_default_factory=True)
        help_text = partial(_field_help, model, name, default)
        flag = f"--{(prefix + name).replace(NESTED, '-').replace('_', '-')}"
        parameters.append(_option(prefix + name, flag, help=help_text, metavar=_metavar(field.annotation)))
    return parameters


def _loss_options() -> list[inspect.Parameter]:
    """The loss shorthands; the losses, generators and temperature options they name are read from
    the loss registry and ``GENERATORS`` when --help is built."""
    from ladbench.losses.config import LossConfig
    from ladbench.losses.divergences import GENERATORS
    from ladbench.losses.registry import LOSSES

    default = LossConfig.model_fields["name"].default

    def divergence_help() -> str:
        divergence = [name for name, loss in LOSSES.items() if "divergence" in loss.options()]
        return (
            f"The generator of {', '.join(divergence)}: {', '.join(GENERATORS)}; sets loss.divergence. "
            + default_text(LOSSES[default].options().get("divergence"))
        )

    def eta_help() -> str:
        temperatures: dict[str, list[str]] = {}
        for name, loss in LOSSES.items():
            if loss.temperature_option is not None:
                temperatures.setdefault(loss.temperature_option, []).append(name)
        return (
            "The loss's temperature: "
            + "; ".join(f"loss.{option} of {', '.join(names)}" for option, names in temperatures.items())
            + ". "
            + default_text("the loss's")
        )

    return [
        _option(
            "method",
            "--method",
            help="Registered loss (`ladbench losses` lists them); sets loss.name. " + default_text(default),
        ),
        _option("divergence", "--divergence", help=divergence_help),
        _option("eta", "--eta", metavar="FLOAT", help=eta_help),
    ]


def with_config_options(
    model: type[BaseModel], tables: dict[str, tuple[str, str, str]] | None = None, skip: tuple[str, ...] = ()
) -> Callable[[Callable], Callable]:
    """Give a command one option per field of ``model`` (but ``skip`` and the table fields), one
    repeatable ``key=value`` option per table field (``tables``: field -> (short flag, long flag,
    help)), the loss shorthands when the model has a ``loss``, ``--config`` and ``-s``. The command
    takes ``settings: dict``: the config file's settings, then the given options, then ``-s``."""
    tables = tables or {}

    def decorate(command: Callable) -> Callable:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != SETTINGS]
        scalars = _field_options(model, (*skip, *tables))
        shorthands = _loss_options() if "loss" in model.model_fields else []
        table_options = [
            _option(f"{field}__items", short, long, help=help_text, default=[])
            for field, (short, long, help_text) in tables.items()
        ]
        flag_names = {f"{field}__items": long for field, (_, long, _) in tables.items()}
        layering = [
            _option(
                "config_file",
                "--config",
                metavar="FILE",
                help="TOML file of settings (any option below, "
                "tables such as \\[loss] included); the other options override it.",
            ),
            _option(
                "overrides",
                "--set",
                "-s",
                metavar="KEY=VALUE",
                default=[],
                help="Setting key=value, repeatable, applied last; dotted keys reach into tables (-s loss.eta=0.5).",
            ),
        ]
        generated = [*shorthands, *table_options, *layering, *scalars]

        def wrapper(**arguments: Any) -> Any:
            with user_errors():
                flags = {
                    p.name.replace(NESTED, "."): parse_value(arguments[p.name])
                    for p in (*scalars, *shorthands)
                    if arguments[p.name] is not None
                }
                for parameter in table_options:
                    field = parameter.name.removesuffix("__items")
                    for text in arguments[parameter.name]:
                        key, value = parse_assignment(text, flag_names[parameter.name])
                        if f"{field}.{key}" in flags:
                            raise UserError(
                                f"{flag_names[parameter.name]} {key} given twice ({key}={flags[f'{field}.{key}']!r}, "
                                f"{text}); give it once"
                            )
                        flags[f"{field}.{key}"] = value
                _refuse_repeated_keys(arguments["overrides"])
                config_file = arguments["config_file"]
                settings = layered(Path(config_file) if config_file else None, flags, arguments["overrides"])
            for parameter in generated:
                arguments.pop(parameter.name)
            return command(**arguments, **{SETTINGS: settings})

        wrapper.__name__, wrapper.__doc__, wrapper.__module__ = command.__name__, command.__doc__, command.__module__
        parameters = [*own, *generated]
        wrapper.__signature__ = inspect.Signature(parameters)
        wrapper.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
        return wrapper

    return decorate
