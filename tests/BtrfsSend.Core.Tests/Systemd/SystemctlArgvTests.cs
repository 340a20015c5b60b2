using BtrfsSend.Core.Systemd;

namespace BtrfsSend.Core.Tests.Systemd;

public sealed class SystemctlArgvTests
{
    [Theory]
    [InlineData("is-active", "systemctl|is-active|--|php8.2-fpm")]
    [InlineData("stop", "systemctl|stop|--|php8.2-fpm")]
    [InlineData("start", "systemctl|start|--|php8.2-fpm")]
    public void Each_systemctl_command_ends_the_options_before_the_unit(string verb, string expected)
    {
        var argv = verb switch
        {
            "is-active" => SystemctlArgv.IsActive("php8.2-fpm"),
            "stop" => SystemctlArgv.Stop("php8.2-fpm"),
            _ => SystemctlArgv.Start("php8.2-fpm"),
        };

        Assert.Equal(expected, string.Join('|', argv));
    }
}
