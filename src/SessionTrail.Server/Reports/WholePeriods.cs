using SessionTrail.Server.Store;

namespace SessionTrail.Server.Reports;

/// <summary>
/// The whole UTC months and days inside a report's window [From, To), whose runs' sums the reports read from
/// <c>user_app_month</c> and <c>user_app_day</c> (schema 11); the rest of the window — the partial days at its edges —
/// is read from the runs. Days [<see cref="FirstDay"/>, <see cref="EndDay"/>) are whole; of them, months
/// [<see cref="FirstMonth"/>, <see cref="EndMonth"/>) are whole, and the days outside those months are read per day.
/// A missing From or To is an open end: every day and month before (after) is whole.
/// </summary>
internal sealed record WholePeriods(long FirstDay, long EndDay, long FirstMonth, long EndMonth, long FirstMonthDay, long EndMonthDay, long WholeFrom, long WholeTo, long From, long To)
{
    /// <summary>
    /// The most whole days outside whole months for which <c>top-apps</c> and <c>launches</c> read the day rows: past it they
    /// read the runs. With 2,000 users a day of a busy fleet has about as many (day, app, user) rows as runs (bench
    /// reports: 10 M runs over 90 days), so reading many days' rows saves nothing; a month's rows are 8 times fewer.
    /// </summary>
    public const long MostDays = 7;

    private const long DayMillis = 86_400_000;

    /// <summary>The whole days read per day: those outside the whole months.</summary>
    public long DaysOutsideMonths => (FirstMonthDay == long.MinValue ? 0 : FirstMonthDay - FirstDay) + (EndMonthDay == long.MaxValue ? 0 : EndDay - EndMonthDay);

    /// <summary>The whole periods of <paramref name="filter"/>'s window; null when it holds no whole day (the runs answer).</summary>
    public static WholePeriods? Of(ReportFilter filter)
    {
        long? from = filter.From?.ToUnixTimeMilliseconds(), to = filter.To?.ToUnixTimeMilliseconds();
        var firstDay = from is { } f ? RunAggregates.DayOf(f - 1) + 1 : long.MinValue; // the first midnight at or after From
        var endDay = to is { } t ? RunAggregates.DayOf(t) : long.MaxValue;              // the last midnight at or before To
        if (firstDay >= endDay)
        {
            return null;
        }

        // A month is whole when its first day is at or after FirstDay and the next month's first day at or before EndDay.
        var firstMonth = from is null ? long.MinValue : RunAggregates.MonthOfDay(firstDay) + (RunAggregates.FirstDayOfMonth(RunAggregates.MonthOfDay(firstDay)) == firstDay ? 0 : 1);
        var endMonth = to is null ? long.MaxValue : RunAggregates.MonthOfDay(endDay);
        long firstMonthDay, endMonthDay;
        if (firstMonth < endMonth)
        {
            firstMonthDay = from is null ? long.MinValue : RunAggregates.FirstDayOfMonth(firstMonth);
            endMonthDay = to is null ? long.MaxValue : RunAggregates.FirstDayOfMonth(endMonth);
        }
        else
        {
            (firstMonth, endMonth, firstMonthDay, endMonthDay) = (0, 0, endDay, endDay); // no whole month: every whole day is read per day
        }

        return new(
            firstDay,
            endDay,
            firstMonth,
            endMonth,
            firstMonthDay,
            endMonthDay,
            from is null ? long.MinValue : firstDay * DayMillis,
            to is null ? long.MaxValue : endDay * DayMillis,
            from ?? long.MinValue,
            to ?? long.MaxValue);
    }

    /// <summary>
    /// The SQL parameters: $d0/$d1 the whole days, $m0/$m1 the whole months, $dm0/$dm1 the first days of the first whole
    /// month and of the month after the last, $w0/$w1 the whole days in milliseconds, $fc the start of the day before From
    /// (a short run from before the window that runs into it started there) and $tc the same before To, within the whole days.
    /// </summary>
    public IEnumerable<(string Name, long Value)> Parameters =>
    [
        ("$d0", FirstDay),
        ("$d1", EndDay),
        ("$m0", FirstMonth),
        ("$m1", EndMonth),
        ("$dm0", FirstMonthDay),
        ("$dm1", EndMonthDay),
        ("$w0", WholeFrom),
        ("$w1", WholeTo),
        ("$fc", From == long.MinValue ? long.MinValue : From - DayMillis),
        ("$tc", To == long.MaxValue ? long.MaxValue : Math.Max(WholeFrom, To - DayMillis)),
    ];
}
