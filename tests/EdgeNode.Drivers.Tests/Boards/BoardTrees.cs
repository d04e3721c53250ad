namespace EdgeNode.Drivers.Tests.Boards;

/// <summary>
/// Fake root trees shaped like real boards: the file names, value formats and units those
/// kernels publish (cpuinfo blocks, NUL-terminated device-tree strings, kHz, millidegrees,
/// mV/mA/µW hwmon channels, µV/µA power_supply values, kB meminfo).
/// </summary>
public static class BoardTrees
{
    private const string Cortex8Features = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp";

    /// <summary>Raspberry Pi 5 (BCM2712, 4x Cortex-A76 at 2.4 GHz), 8 GB, active cooler, SD card.</summary>
    public static FakeTree RaspberryPi5(string root)
    {
        var tree = new FakeTree(root)
            .DeviceTreeStrings("/proc/device-tree/model", "Raspberry Pi 5 Model B Rev 1.0")
            .DeviceTreeStrings("/proc/device-tree/compatible", "raspberrypi,5-model-b", "brcm,bcm2712")
            .ArmCpuInfo([.. Enumerable.Repeat(("0xd0b", "0x4"), 4)], Cortex8Features,
                "Revision\t: d04170\nSerial\t\t: 5c3a1e2b9f7d4a10\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0\n")
            .Value("/sys/devices/system/cpu/online", "0-3")
            .Value("/sys/devices/system/cpu/possible", "0-3")
            .MemInfo(8245008, 7012344, 7654320, 524272)
            .Value("/proc/sys/kernel/osrelease", "6.6.31+rpt-rpi-2712")
            // The device tree gives the fan its active trips and a critical one; the firmware throttles at 80 °C.
            .ThermalZone(0, "cpu-thermal", 52650, (110000, "critical"), (50000, "active"), (60000, "active"), (67500, "active"), (75000, "active"))
            .Value("/sys/class/hwmon/hwmon0/name", "cpu_thermal")
            .Value("/sys/class/hwmon/hwmon0/temp1_input", 52650)
            .Value("/sys/class/hwmon/hwmon1/name", "rp1_adc")
            .Value("/sys/class/hwmon/hwmon1/in1_input", 1464)
            .Value("/sys/class/hwmon/hwmon1/in2_input", 1467)
            .Value("/sys/class/hwmon/hwmon1/temp1_input", 54315)
            .Value("/sys/class/hwmon/hwmon2/name", "pwmfan")
            .Value("/sys/class/hwmon/hwmon2/fan1_input", 2948)
            .Value("/sys/class/hwmon/hwmon2/pwm1", 77)
            .Value("/sys/class/hwmon/hwmon2/pwm1_enable", 2)
            .Folder("/sys/class/power_supply")
            .Value("/sys/block/mmcblk0/size", 124735488)
            .Value("/sys/block/mmcblk0/removable", 0)
            .Value("/sys/block/mmcblk0/queue/rotational", 0)
            .Value("/sys/block/mmcblk0/device/type", "SD")
            .Value("/sys/block/mmcblk0/device/name", "SN64G")
            .Value("/sys/block/loop0/size", 0)
            .Value("/sys/block/ram0/size", 8192)
            .Node("/dev/gpiochip0").Node("/dev/gpiochip4").Node("/dev/i2c-1").Node("/dev/spidev0.0")
            .Node("/dev/dri/card0").Node("/dev/dri/card1").Node("/dev/dri/renderD128")
            .Folder("/sys/class/pwm/pwmchip0");
        for (var cpu = 0; cpu < 4; cpu++)
            tree.Cpu(cpu, 2400000, "0 1 2 3", 1024);
        return tree;
    }

    /// <summary>Jetson Orin Nano developer kit 8 GB (Tegra234, 6x Cortex-A78AE in two clusters), INA3221, NVMe.</summary>
    public static FakeTree JetsonOrinNano(string root)
    {
        var tree = new FakeTree(root)
            .DeviceTreeStrings("/proc/device-tree/model", "NVIDIA Jetson Orin Nano Developer Kit")
            .DeviceTreeStrings("/proc/device-tree/compatible", "nvidia,p3768-0000+p3767-0005", "nvidia,p3767-0005", "nvidia,tegra234")
            .ArmCpuInfo([.. Enumerable.Repeat(("0xd42", "0x1"), 6)], Cortex8Features + " uscat ilrcpc flagm paca pacg")
            .Value("/sys/devices/system/cpu/online", "0-5")
            .MemInfo(7802660, 5123412, 6101232, 3901328)
            .Value("/proc/sys/kernel/osrelease", "5.15.136-tegra")
            .ThermalZone(0, "cpu-thermal", 48468, (99000, "passive"), (104500, "critical"))
            .ThermalZone(1, "gpu-thermal", 47531, (99000, "passive"), (104500, "critical"))
            .ThermalZone(2, "cv0-thermal", 46875)
            .ThermalZone(3, "cv1-thermal", 47187)
            .ThermalZone(4, "cv2-thermal", 46562)
            .ThermalZone(5, "soc0-thermal", 47218, (99000, "passive"), (104500, "critical"))
            .ThermalZone(6, "soc1-thermal", 46968)
            .ThermalZone(7, "soc2-thermal", 46750)
            .ThermalZone(8, "tj-thermal", 48468, (99000, "passive"), (104500, "critical"))
            .Value("/sys/class/hwmon/hwmon0/name", "pwmfan")
            .Value("/sys/class/hwmon/hwmon0/pwm1", 130)
            .Value("/sys/class/hwmon/hwmon1/name", "ina3221")
            .Value("/sys/class/hwmon/hwmon1/in1_label", "VDD_IN")
            .Value("/sys/class/hwmon/hwmon1/in2_label", "VDD_CPU_GPU_CV")
            .Value("/sys/class/hwmon/hwmon1/in3_label", "VDD_SOC")
            .Value("/sys/class/hwmon/hwmon1/in1_input", 5080)
            .Value("/sys/class/hwmon/hwmon1/in2_input", 5072)
            .Value("/sys/class/hwmon/hwmon1/in3_input", 5076)
            .Value("/sys/class/hwmon/hwmon1/curr1_input", 1488)
            .Value("/sys/class/hwmon/hwmon1/curr2_input", 392)
            .Value("/sys/class/hwmon/hwmon1/curr3_input", 736)
            .Value("/sys/class/hwmon/hwmon1/in4_input", 7440)
            .Value("/sys/class/hwmon/hwmon1/in5_input", 1960)
            .Value("/sys/class/hwmon/hwmon1/in6_input", 3680)
            .Value("/sys/class/hwmon/hwmon1/in7_label", "sum of shunt voltages")
            .Value("/sys/class/hwmon/hwmon1/in7_input", 13080)
            .Value("/sys/class/hwmon/hwmon1/shunt1_resistor", 5000)
            .Folder("/sys/class/power_supply")
            .Value("/sys/block/nvme0n1/size", 500118192)
            .Value("/sys/block/nvme0n1/removable", 0)
            .Value("/sys/block/nvme0n1/queue/rotational", 0)
            .Value("/sys/block/nvme0n1/device/model", "Samsung SSD 980 250GB                   ")
            .Value("/sys/block/zram0/size", 1000000)
            .Node("/dev/nvhost-ctrl-gpu").Node("/dev/nvhost-gpu").Node("/dev/nvmap")
            .Node("/dev/dri/card0").Node("/dev/dri/renderD128")
            .Node("/dev/gpiochip0").Node("/dev/gpiochip1").Node("/dev/i2c-0").Node("/dev/i2c-1").Node("/dev/i2c-7");
        for (var cpu = 0; cpu < 6; cpu++)
            tree.Cpu(cpu, 1510400, cpu < 4 ? "0 1 2 3" : "4 5");
        return tree;
    }

    /// <summary>Orange Pi 5 (RK3588S: 4x Cortex-A55 + 2x2 Cortex-A76), 16 GB, SD card, Mali GPU and RKNPU.</summary>
    public static FakeTree OrangePi5(string root)
    {
        var tree = new FakeTree(root)
            .DeviceTreeStrings("/proc/device-tree/model", "Orange Pi 5")
            .DeviceTreeStrings("/proc/device-tree/compatible", "rockchip,rk3588s-orangepi-5", "rockchip,rk3588")
            .ArmCpuInfo([("0xd05", "0x2"), ("0xd05", "0x2"), ("0xd05", "0x2"), ("0xd05", "0x2"), ("0xd0b", "0x4"), ("0xd0b", "0x4"), ("0xd0b", "0x4"), ("0xd0b", "0x4")], Cortex8Features)
            .Value("/sys/devices/system/cpu/online", "0-7")
            .MemInfo(16139704, 14012000, 15001232)
            .Value("/proc/sys/kernel/osrelease", "6.1.43-rockchip-rk3588")
            .ThermalZone(0, "soc-thermal", 41555, (75000, "passive"), (85000, "passive"), (115000, "critical"))
            .ThermalZone(1, "bigcore0-thermal", 41740, (115000, "critical"))
            .ThermalZone(2, "bigcore1-thermal", 41555, (115000, "critical"))
            .ThermalZone(3, "littlecore-thermal", 42480, (115000, "critical"))
            .ThermalZone(4, "center-thermal", 41185, (115000, "critical"))
            .ThermalZone(5, "gpu-thermal", 40815, (115000, "critical"))
            .ThermalZone(6, "npu-thermal", 41000, (115000, "critical"))
            .Value("/sys/class/hwmon/hwmon0/name", "soc_thermal")
            .Value("/sys/class/hwmon/hwmon0/temp1_input", 41555)
            .Value("/sys/class/hwmon/hwmon1/name", "bigcore0_thermal")
            .Value("/sys/class/hwmon/hwmon1/temp1_input", 41740)
            .Folder("/sys/class/power_supply")
            .Value("/sys/block/mmcblk1/size", 62333952)
            .Value("/sys/block/mmcblk1/removable", 0)
            .Value("/sys/block/mmcblk1/queue/rotational", 0)
            .Value("/sys/block/mmcblk1/device/type", "SD")
            .Value("/sys/block/mmcblk1/device/name", "SD32G")
            .Node("/dev/dri/card0").Node("/dev/dri/card1").Node("/dev/dri/renderD128").Node("/dev/dri/renderD129")
            .Node("/dev/mali0")
            .Node("/dev/gpiochip0").Node("/dev/gpiochip1").Node("/dev/gpiochip2").Node("/dev/gpiochip3").Node("/dev/gpiochip4")
            .Node("/dev/i2c-0").Node("/dev/i2c-1").Node("/dev/i2c-2")
            .Folder("/sys/class/pwm/pwmchip0").Folder("/sys/class/pwm/pwmchip1");
        for (var cpu = 0; cpu < 8; cpu++)
        {
            var (related, maxKHz, capacity) = cpu switch
            {
                < 4 => ("0 1 2 3", 1800000L, 530),
                < 6 => ("4 5", 2256000L, 1024),
                _ => ("6 7", 2256000L, 1024),
            };
            tree.Cpu(cpu, maxKHz, related, capacity);
        }
        return tree;
    }

    /// <summary>
    /// A Snapdragon 8 Gen 2 phone (Galaxy S23, SM8550: 3x A510, 2x A715 + 2x A710, 1x X3) seen from
    /// Termux: build.prop files, a discharging battery, Adreno and FastRPC nodes.
    /// </summary>
    public static FakeTree SnapdragonPhone(string root, string batteryStatus = "Discharging", int capacity = 67, int usbOnline = 0)
    {
        const string features = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg dcpodp flagm2 frint i8mm bf16 bti";
        var tree = new FakeTree(root)
            .File("/system/build.prop", "# begin common build properties\nro.product.system.brand=samsung\nro.product.system.device=dm1q\nro.product.system.manufacturer=samsung\nro.product.system.model=SM-S911B\nro.product.system.name=dm1qxxx\nro.build.version.release=14\nro.build.version.sdk=34\n")
            .File("/vendor/build.prop", "ro.product.vendor.brand=samsung\nro.product.vendor.manufacturer=samsung\nro.product.vendor.model=SM-S911B\nro.board.platform=kalama\nro.soc.manufacturer=QTI\nro.soc.model=SM8550\n")
            .DeviceTreeStrings("/proc/device-tree/model", "Qualcomm Technologies, Inc. Kalama MTP dm1q")
            .DeviceTreeStrings("/proc/device-tree/compatible", "qcom,kalama-mtp", "qcom,kalama", "qcom,mtp")
            .ArmCpuInfo([("0xd46", "0x1"), ("0xd46", "0x1"), ("0xd46", "0x1"), ("0xd4d", "0x0"), ("0xd4d", "0x0"), ("0xd47", "0x2"), ("0xd47", "0x2"), ("0xd4e", "0x0")], features)
            .Value("/sys/devices/system/cpu/online", "0-7")
            .MemInfo(7445600, 412000, 2801232, 6291452)
            .Value("/proc/sys/kernel/osrelease", "5.15.123-android13-8-28577532-abS911BXXS3BWK5")
            .ThermalZone(0, "aoss-0", 36100)
            .ThermalZone(1, "cpu-0-0-0", 38900, (95000, "passive"), (115000, "critical"))
            .ThermalZone(2, "cpu-1-0-0", 40100, (95000, "passive"), (115000, "critical"))
            .ThermalZone(3, "cpu-1-2-0", 41200, (95000, "passive"), (115000, "critical"))
            .ThermalZone(4, "gpuss-0", 37400, (95000, "passive"), (115000, "critical"))
            .ThermalZone(5, "battery", 31200)
            .ThermalZone(6, "skin-msm-therm", 33500, (45000, "passive"))
            .Value("/sys/class/power_supply/battery/type", "Battery")
            .Value("/sys/class/power_supply/battery/status", batteryStatus)
            .Value("/sys/class/power_supply/battery/capacity", capacity)
            .Value("/sys/class/power_supply/battery/voltage_now", 3912000)
            .Value("/sys/class/power_supply/battery/current_now", batteryStatus == "Charging" ? 1250000 : -482000)
            .Value("/sys/class/power_supply/battery/health", "Good")
            .Value("/sys/class/power_supply/battery/temp", 312)
            .Value("/sys/class/power_supply/usb/type", "USB")
            .Value("/sys/class/power_supply/usb/online", usbOnline)
            .Value("/sys/class/power_supply/wireless/type", "Wireless")
            .Value("/sys/class/power_supply/wireless/online", 0)
            .Node("/dev/kgsl-3d0").Node("/dev/adsprpc-smd").Node("/dev/fastrpc-cdsp");
        for (var cpu = 0; cpu < 8; cpu++)
        {
            var (related, maxKHz, capacity2) = cpu switch
            {
                < 3 => ("0 1 2", 2016000L, 411),
                < 7 => ("3 4 5 6", 2803200L, 904),
                _ => ("7", 3360000L, 1024),
            };
            tree.Cpu(cpu, maxKHz, related, capacity2);
        }
        return tree;
    }

    /// <summary>An Intel N100 mini PC (4 E-cores, AVX2 and AVX-VNNI, no AVX-512), DMI, coretemp, NVMe.</summary>
    public static FakeTree IntelMiniPc(string root)
    {
        const string flags = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf tsc_known_freq pni pclmulqdq dtes64 monitor ds_cpl vmx est tm2 ssse3 sdbg fma cx16 xtpr pdcm sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb cat_l2 cdp_l2 ssbd ibrs ibpb stibp ibrs_enhanced tpr_shadow flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid rdt_a rdseed adx smap clflushopt clwb intel_pt sha_ni xsaveopt xsavec xgetbv1 xsaves split_lock_detect avx_vnni dtherm ida arat pln pts hwp hwp_notify hwp_act_window hwp_epp hwp_pkg_req vnmi umip pku ospke waitpkg gfni vaes vpclmulqdq rdpid movdiri movdir64b fsrm md_clear serialize arch_lbr ibt flush_l1d arch_capabilities";
        var cpuinfo = string.Concat(Enumerable.Range(0, 4).Select(i => FormattableString.Invariant(
            $"processor\t: {i}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 190\nmodel name\t: Intel(R) N100\nstepping\t: 0\ncpu MHz\t\t: 2900.000\ncache size\t: 6144 KB\nphysical id\t: 0\nsiblings\t: 4\ncore id\t\t: {i}\ncpu cores\t: 4\nflags\t\t: {flags}\n\n")));
        var tree = new FakeTree(root)
            .File("/proc/cpuinfo", cpuinfo)
            .Value("/sys/class/dmi/id/sys_vendor", "AZW")
            .Value("/sys/class/dmi/id/product_name", "MINI S")
            .Value("/sys/class/dmi/id/board_name", "Default string")
            .Value("/sys/devices/system/cpu/online", "0-3")
            .MemInfo(16107292, 13002124, 14702332, 4194300)
            .Value("/proc/sys/kernel/osrelease", "6.8.0-45-generic")
            .ThermalZone(0, "acpitz", 27800, (105000, "critical"))
            .ThermalZone(1, "x86_pkg_temp", 45000)
            .Value("/sys/class/hwmon/hwmon0/name", "acpitz")
            .Value("/sys/class/hwmon/hwmon0/temp1_input", 27800)
            .Value("/sys/class/hwmon/hwmon1/name", "nvme")
            .Value("/sys/class/hwmon/hwmon1/temp1_label", "Composite")
            .Value("/sys/class/hwmon/hwmon1/temp1_input", 38850)
            .Value("/sys/class/hwmon/hwmon2/name", "coretemp")
            .Value("/sys/class/hwmon/hwmon2/temp1_label", "Package id 0")
            .Value("/sys/class/hwmon/hwmon2/temp1_input", 45000)
            .Value("/sys/class/hwmon/hwmon2/temp1_crit", 105000)
            .Value("/sys/class/power_supply/ACAD/type", "Mains")
            .Value("/sys/class/power_supply/ACAD/online", 1)
            .Value("/sys/block/nvme0n1/size", 1000215216)
            .Value("/sys/block/nvme0n1/removable", 0)
            .Value("/sys/block/nvme0n1/queue/rotational", 0)
            .Value("/sys/block/nvme0n1/device/model", "KINGSTON OM8PGP4512Q-A0")
            .Node("/dev/dri/card1").Node("/dev/dri/renderD128").Node("/dev/i2c-0");
        for (var cpu = 0; cpu < 4; cpu++)
            tree.Cpu(cpu, 3400000, cpu.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return tree;
    }
}
